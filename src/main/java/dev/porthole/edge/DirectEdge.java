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
import java.nio.channels.SocketChannel;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>Threads: none of its own and no event loop. A connection's requests are decoded and written
 * to the local service by JSch's session thread (a write blocks, as the socket splice's does, so a
 * slow local reader slows the relay down); its responses are read, decoded and re-encoded by the
 * channel's JSch thread. Blocking calls: the dial (5 s), socket reads and writes (ended by closing
 * the connection, which the channel's close and the tunnel's stop do).
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

  /** A forwarded connection's end: called on the channel's JSch thread, before it is confirmed. */
  public DirectConnection open() {
    return new DirectConnection(this);
  }

  /** The tunnel stops: idle connections are closed, and any given back later. */
  public void close() {
    closed = true;
    Local l;
    while ((l = idle.pollFirst()) != null) {
      l.close();
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

    Local(SocketChannel ch) {
      this.ch = ch;
      responses.config().setAllocator(ALLOC);
      responses.pipeline().addLast(decoder);
    }

    void write(ByteBuffer[] bufs) throws IOException {
      long left = 0;
      for (ByteBuffer b : bufs) {
        left += b.remaining();
      }
      while (left > 0) {
        left -= ch.write(bufs);
      }
    }

    /** False when the service closed it (or sent something unasked) while it was idle. */
    boolean stillOpen() {
      try {
        ch.configureBlocking(false);
        int n = ch.read(ByteBuffer.allocate(1));
        ch.configureBlocking(true);
        return n == 0;
      } catch (IOException e) {
        return false;
      }
    }

    /**
     * Ends a read blocked on it (the channel thread's, waiting for an answer that will not come on
     * it): it reads the end of stream and closes it.
     */
    void wakeReader() {
      try {
        ch.shutdownInput();
      } catch (IOException e) {
        close();
      }
    }

    void close() {
      try {
        ch.close();
      } catch (IOException ignored) {
        // Closing.
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
