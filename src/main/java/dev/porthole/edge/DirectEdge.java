package dev.porthole.edge;

import dev.porthole.metrics.Metrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * An HTTP tunnel's edge without the loopback hop (issue 19): each forwarded connection is parsed
 * straight off its SSH channel's bytes with Netty's HTTP/1.x codec ({@link DirectConnection}) and
 * each request is relayed over a pooled keep-alive connection to the local service. Same rules as
 * the loopback edge ({@link TunnelEdgeVerticle}, which owns this and shares its gate, replay key,
 * capture and metrics): ping → 200, the basic-auth gate → 401, upgrades relayed as raw bytes, the
 * 503 page when the local service does not answer, {@code X-Forwarded-For} appended, one capture
 * per exchange.
 *
 * <p>Threads: one of its own, {@code porthole-edge-<tunnel id>}, started with the first connection
 * and ended by {@link #close}. A connection's requests are decoded and written to the local service
 * by JSch's session thread (a write waits while the service does not read, as the socket splice's
 * does, so a slow local reader slows the relay down). The answers of all the tunnel's connections
 * are read, decoded, re-encoded and sent into their channels by the edge's thread, a selector over
 * the local connections: one wake-up serves every answer that is ready, where a JSch thread per
 * channel cost a wake-up each (bench P3). It never waits for the relay's window: a connection whose
 * channel's window is used up keeps the rest, reads no more from its service, and is retried every
 * {@link #STALL_RETRY_MS}. The channel's JSch thread only waits for the end. Blocking calls: the
 * dial (5 s; on the edge's thread only to retry a request on a fresh connection when a reused one
 * turned out closed), the session's socket write of each packet, and a key exchange under way.
 */
public final class DirectEdge {
  static final int DIAL_TIMEOUT_MS = 5_000;
  /** Idle keep-alive connections kept per tunnel, as the loopback edge's client pool. */
  static final int MAX_IDLE = 64;
  /** An idle connection older than this is closed rather than reused. */
  static final long MAX_IDLE_NANOS = 90_000_000_000L;
  /** An idle connection older than this is looked at (closed by the service?) before reuse. */
  static final long CHECK_IDLE_NANOS = 1_000_000_000L;
  /**
   * Heap buffers, left to the GC: a connection cut in the middle leaves decoder state that nothing
   * would release, and pooled buffers would then be reported as leaks.
   */
  static final ByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false, true);
  /** The caller address appended to X-Forwarded-For: the loopback edge saw its pump's 127.0.0.1. */
  static final String CALLER = "127.0.0.1";
  static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
      "proxy-authenticate", "proxy-authorization", "te", "trailer", "upgrade");

  /** How often the edge's thread retries sending to channels whose window was used up. */
  static final long STALL_RETRY_MS = 5;

  /** Where a connection's answers go: its SSH channel, from the edge's thread. */
  public interface Sink {
    /**
     * Sends as much as the channel's window takes now.
     *
     * @return the bytes taken, fewer than {@code len} (maybe 0) when the window is used up
     * @throws IOException once the channel is closed
     */
    int offer(byte[] b, int off, int len) throws IOException;
  }

  final String tunnelId;
  final InetSocketAddress local;
  final BasicAuthGate gate;
  final Predicate<String> replayKey;
  final CaptureSink capture;
  final Metrics metrics;
  final byte[] notOnlinePage;
  private final Deque<Local> idle = new ConcurrentLinkedDeque<>();
  private final AtomicInteger idleCount = new AtomicInteger();
  private volatile boolean closed;
  /** The edge's thread's selector, open from the first connection to {@link #close} (set under this). */
  private volatile Selector selector;
  private final ConcurrentLinkedQueue<DirectConnection> scheduled = new ConcurrentLinkedQueue<>();
  // The edge's thread only:
  private final Set<DirectConnection> stalled = new LinkedHashSet<>();
  /** Where answers are gathered into one send (the edge's thread only). */
  byte[] sendBuffer = new byte[64 * 1024];
  /** Runs each round of the edge's thread: all that one wake-up of its selector handles. */
  private volatile Consumer<Runnable> rounds = Runnable::run;

  /**
   * @param replayKey true for the edge's own replay key (such a request passes the gate)
   * @param capture null when capture is off
   * @param metrics null when metrics are off
   */
  DirectEdge(String tunnelId, String localHost, int localPort, BasicAuthGate gate, Predicate<String> replayKey,
      CaptureSink capture, Metrics metrics, byte[] notOnlinePage) {
    this.tunnelId = tunnelId;
    this.local = InetSocketAddress.createUnresolved(localHost, localPort);
    this.gate = gate;
    this.replayKey = replayKey;
    this.capture = capture;
    this.metrics = metrics;
    this.notOnlinePage = notOnlinePage;
  }

  /**
   * A forwarded connection's end: called on the channel's JSch thread, before it is confirmed.
   *
   * @param sink where its answers go
   */
  public DirectConnection open(Sink sink) throws IOException {
    startSelector();
    return new DirectConnection(this, sink);
  }

  private synchronized void startSelector() throws IOException {
    if (closed) {
      throw new IOException("the tunnel is stopping");
    }
    if (selector != null) {
      return;
    }
    Selector s = Selector.open();
    Thread t = new Thread(() -> selectLoop(s), "porthole-edge-" + tunnelId);
    t.setDaemon(true);
    selector = s;
    t.start();
  }

  /** The tunnel stops: idle connections are closed, and any given back later; the edge's thread ends. */
  public void close() {
    synchronized (this) {
      boolean wasClosed = closed;
      closed = true;
      if (!wasClosed && selector != null) {
        selector.wakeup(); // the edge's thread ends, closing it
      }
    }
    Local l;
    while ((l = idle.pollFirst()) != null) {
      l.close();
    }
  }

  /**
   * How each round of the edge's thread is run: the SSH side sends what a round's answers wrote
   * in one go ({@code ssh/SessionWrites}); by default as it comes.
   */
  public void runRoundsWith(Consumer<Runnable> runner) {
    rounds = runner;
  }

  /** Has the edge's thread look at the connection (a new exchange, its caller's end). Any thread. */
  void schedule(DirectConnection c) {
    scheduled.add(c);
    Selector s = selector;
    if (s != null) {
      try {
        s.wakeup();
      } catch (ClosedSelectorException e) {
        // The tunnel stopped: its connections end with their channels.
      }
    }
  }

  /** The edge's thread: wakes {@code c} when {@code l} has something to read. */
  void watch(Local l, DirectConnection c) {
    try {
      l.watcher = c;
      SelectionKey k = l.ch.keyFor(selector);
      if (k == null) {
        l.ch.register(selector, SelectionKey.OP_READ, l);
      } else {
        k.interestOps(SelectionKey.OP_READ);
      }
    } catch (CancelledKeyException | ClosedChannelException e) {
      scheduled.add(c); // closed meanwhile: its read says so, later in this round
    }
  }

  /** The edge's thread: the channel's window took only part; retried every {@link #STALL_RETRY_MS}. */
  void stalled(DirectConnection c) {
    stalled.add(c);
  }

  private void selectLoop(Selector s) {
    Runnable round = () -> round(s);
    try (s) {
      while (!closed) {
        s.select(stalled.isEmpty() ? 0 : STALL_RETRY_MS);
        rounds.accept(round);
      }
    } catch (IOException e) {
      // The selector itself failed: the connections still open end with their channels.
      org.slf4j.LoggerFactory.getLogger(DirectEdge.class).error("edge(tunnel={}) selector failed", tunnelId, e);
    }
  }

  /** The connections the selector found readable, then those scheduled, then the stalled ones. */
  private void round(Selector s) {
    Iterator<SelectionKey> keys = s.selectedKeys().iterator();
    while (keys.hasNext()) {
      SelectionKey k = keys.next();
      keys.remove();
      Local l = (Local) k.attachment();
      try {
        k.interestOps(0); // until the connection asks again
      } catch (CancelledKeyException e) {
        // Closed meanwhile: the connection's read says so.
      }
      l.drained = false;
      l.watcher.pump(l);
    }
    DirectConnection c;
    while ((c = scheduled.poll()) != null) {
      c.pump(null);
    }
    if (!stalled.isEmpty()) {
      List<DirectConnection> retry = new ArrayList<>(stalled);
      stalled.clear();
      for (DirectConnection r : retry) {
        r.pump(null);
      }
    }
  }

  /** An idle connection to the local service, or a new one (≤ 5 s). */
  Local acquire() throws IOException {
    Local l;
    long now = System.nanoTime();
    while ((l = idle.pollFirst()) != null) {
      idleCount.decrementAndGet();
      long idleFor = now - l.idleSince;
      if (idleFor > MAX_IDLE_NANOS || idleFor > CHECK_IDLE_NANOS && !l.stillOpen()) {
        l.close();
        continue;
      }
      l.reused = true;
      return l;
    }
    return dial();
  }

  Local dial() throws IOException {
    if (closed) {
      throw new IOException("the tunnel is stopping");
    }
    SocketChannel ch = SocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
      // A timed connect through the socket view; the channel is back in blocking mode after it.
      ch.socket().connect(new InetSocketAddress(local.getHostString(), local.getPort()), DIAL_TIMEOUT_MS);
      if (closed) {
        throw new IOException("the tunnel is stopping"); // stopped during the dial: closed below
      }
      ch.configureBlocking(false); // read by the edge's selector
      return new Local(ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Back to the pool after a complete exchange; closed when the pool is full or the tunnel stopped. */
  void release(Local l) {
    if (closed || idleCount.incrementAndGet() > MAX_IDLE) {
      idleCount.decrementAndGet();
      l.close();
      return;
    }
    l.idleSince = System.nanoTime();
    idle.offerFirst(l);
    if (closed && idle.remove(l)) {
      l.close();
    }
  }

  /** Drops the hop-by-hop headers and those the {@code Connection} header names. */
  static void dropHopByHop(HttpHeaders h) {
    List<String> named = h.getAll("Connection");
    for (String v : named) {
      for (String token : v.split(",")) {
        String t = token.strip();
        if (!t.isEmpty()) {
          h.remove(t);
        }
      }
    }
    for (String name : HOP_BY_HOP) {
      h.remove(name);
    }
  }

  static boolean mentions(HttpHeaders h, String name, String token) {
    for (String v : h.getAll(name)) {
      if (v.toLowerCase(Locale.ROOT).contains(token)) {
        return true;
      }
    }
    return false;
  }

  static HttpDecoderConfig decoderConfig() {
    return new HttpDecoderConfig().setMaxInitialLineLength(16 * 1024).setMaxHeaderSize(64 * 1024)
        .setMaxChunkSize(64 * 1024).setValidateHeaders(false);
  }

  /** A keep-alive connection to the local service, with the decoder of its responses. */
  static final class Local {
    final SocketChannel ch;
    final ResponseDecoder decoder = new ResponseDecoder();
    final EmbeddedChannel responses = new EmbeddedChannel();
    long idleSince;
    /** Taken from the pool: the service may have closed it meanwhile. */
    boolean reused;
    /** Made the first time a write has to wait (guarded by this). */
    private Selector writeWait;
    /**
     * Bytes the edge's thread read while the connection looked idle, for an exchange queued behind
     * another: read again first (the edge's thread only).
     */
    ByteBuf unread;
    /** The forwarded connection the edge's thread last watched this for (the edge's thread only). */
    DirectConnection watcher;
    /**
     * The last read left nothing behind and the selector has not reported the socket since: a read
     * now would only find it empty (the edge's thread only).
     */
    boolean drained;
    /**
     * Netty's decoder has had bytes of this connection and may hold state: its answers no longer go
     * the short way ({@link PlainHttp}; the edge's thread only).
     */
    boolean netty;

    Local(SocketChannel ch) {
      this.ch = ch;
      responses.config().setAllocator(ALLOC);
      responses.pipeline().addLast(decoder);
    }

    /** Writes all of it, waiting while the service does not read; ended by {@link #close}. */
    void write(ByteBuffer[] bufs) throws IOException {
      long left = 0;
      for (ByteBuffer b : bufs) {
        left += b.remaining();
      }
      while (left > 0) {
        long n = ch.write(bufs);
        left -= n;
        if (n == 0) {
          awaitWritable();
        }
      }
    }

    /** Up to a second until the socket takes more (its own selector: the edge's watches reads). */
    private void awaitWritable() throws IOException {
      Selector s;
      synchronized (this) {
        if (writeWait == null) {
          writeWait = Selector.open();
        }
        s = writeWait;
      }
      SelectionKey k = ch.register(s, SelectionKey.OP_WRITE);
      try {
        s.select(1_000);
      } finally {
        k.cancel();
        s.selectNow();
      }
    }

    /** False when the service closed it (or sent something unasked) while it was idle. */
    boolean stillOpen() {
      try {
        return ch.read(ByteBuffer.allocate(1)) == 0;
      } catch (IOException e) {
        return false;
      }
    }

    void close() {
      try {
        ch.close();
      } catch (IOException ignored) {
        // Closing.
      }
      synchronized (this) {
        if (writeWait != null) {
          try {
            writeWait.close();
          } catch (IOException ignored) {
            // Closing.
          }
        }
      }
    }
  }

  /** Netty's response decoder, told when the response is to a HEAD (no body whatever it says). */
  static final class ResponseDecoder extends HttpResponseDecoder {
    volatile boolean head;

    ResponseDecoder() {
      super(decoderConfig());
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage msg) {
      if (head && msg instanceof HttpResponse r && r.status().code() >= 200) {
        return true;
      }
      return super.isContentAlwaysEmpty(msg);
    }
  }

  /** Netty's response encoder, told when the response is to a HEAD (no body, no last chunk). */
  static final class ResponseEncoder extends HttpResponseEncoder {
    boolean head;

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      return head && msg.status().code() >= 200 || super.isContentAlwaysEmpty(msg);
    }
  }
}
