package dev.porthole.edge;

import dev.porthole.edge.DirectEdge.Local;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.impl.headers.HeadersAdaptor;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One forwarded connection of a {@link DirectEdge}: an HTTP/1.1 keep-alive server connection read
 * off the SSH channel. {@link #out} is written by JSch's session thread (the caller's bytes): they
 * are decoded, each request is checked (ping, gate, upgrade), queued as an exchange and streamed to
 * a pooled local connection. The edge's thread ({@link #pump}) takes the exchanges in order and
 * sends their responses (the edge's own, or the local service's, decoded and re-encoded with the
 * hop-by-hop headers dropped, trailers kept) into the channel through its {@link DirectEdge.Sink},
 * reading the local connections only when they have something. {@link #in}, which the channel's
 * JSch thread reads, gives nothing and ends when the answers are all sent (the channel's EOF).
 * After an upgrade request the connection carries raw bytes both ways.
 */
public final class DirectConnection {
  private static final Logger log = LoggerFactory.getLogger(DirectConnection.class);
  private static final long WAIT_MS = 1_000;
  private static final int READ_SIZE = 32 * 1024;

  private final DirectEdge edge;
  private final DirectEdge.Sink sink;
  private final ReentrantLock lock = new ReentrantLock();
  /** Exchanges whose answers are not sent yet, in request order (guarded by lock). */
  private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
  private boolean inputEnded;
  /**
   * This connection's own idle keep-alive connection to the local service (guarded by lock): the
   * next request goes to it, and the edge's thread watches it while no exchange is queued, so the
   * answer is what wakes it; the session thread need not.
   */
  private Local sticky;
  /** The sticky connection the edge's thread watches with no exchange queued (guarded by lock). */
  private Local watching;
  private volatile boolean closed;
  /** Counted down when every answer is sent (or the connection closed): the end of {@link #in}. */
  private final CountDownLatch ended = new CountDownLatch(1);

  // The session thread's side (the caller's bytes).
  private final EmbeddedChannel requests = new EmbeddedChannel();
  private final List<ByteBuf> toLocal = new ArrayList<>();
  /** The exchange whose request is being received (read by {@link #close} too). */
  private volatile Exchange receiving;
  /** The rest of the input is dropped (a malformed request, an upgrade that failed). */
  private boolean discard;
  /** After an upgrade's request: raw bytes to {@link #raw}'s local connection. */
  private Exchange raw;
  /** Netty's request decoder has had bytes and may hold state: requests no longer go the short way ({@link PlainHttp}). */
  private boolean requestsNetty;

  // The edge's thread's side (the answers).
  private final EmbeddedChannel responses = new EmbeddedChannel();
  private final DirectEdge.ResponseEncoder encoder = new DirectEdge.ResponseEncoder();
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
  /**
   * Where local connections are read into (made at the first answer): a fresh 32 KiB buffer per
   * read cost more than the rest of the read; only the bytes read are copied out.
   */
  private ByteBuffer readBuffer;
  private Exchange answering;
  private boolean finished;
  /** What the channel's window did not take yet; sent before anything else. */
  private byte[] unsent;
  private int unsentOff;

  private final InputStream in = new In();
  private final OutputStream out = new Out();

  DirectConnection(DirectEdge edge, DirectEdge.Sink sink) {
    this.edge = edge;
    this.sink = sink;
    requests.config().setAllocator(DirectEdge.ALLOC);
    requests.pipeline().addLast(new HttpRequestEncoder(), new HttpRequestDecoder(DirectEdge.decoderConfig()),
        new Requests());
    responses.config().setAllocator(DirectEdge.ALLOC);
    responses.pipeline().addLast(encoder);
  }

  /** What the relay sent: written by JSch's session thread. */
  public OutputStream out() {
    return out;
  }

  /** Read by the channel's JSch thread: nothing, then the end of stream once every answer is sent. */
  public InputStream in() {
    return in;
  }

  /** The relay's side ended (its EOF); called by the session thread. */
  public void shutdownOutput() {
    Exchange r = raw != null ? raw : receiving;
    if (r != null && r.local != null) {
      try {
        r.local.ch.shutdownOutput();
      } catch (IOException e) {
        r.local.close();
      }
    }
    Local idle;
    lock.lock();
    try {
      inputEnded = true;
      idle = sticky; // no request will come for it: back to the pool
      sticky = null;
      watching = null;
    } finally {
      lock.unlock();
    }
    if (idle != null) {
      edge.release(idle);
    }
    edge.schedule(this); // the answers end once those queued are sent
  }

  /** The channel is gone: every local connection in use is closed, every wait ends. */
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    ended.countDown();
    List<Exchange> open;
    Local own;
    lock.lock();
    try {
      open = new ArrayList<>(exchanges);
      own = sticky;
      sticky = null;
      watching = null;
    } finally {
      lock.unlock();
    }
    if (own != null) {
      edge.release(own); // idle: no request is out on it
    }
    Exchange a = answering;
    if (a != null) {
      open.add(a);
    }
    Exchange r = raw;
    if (r != null) {
      open.add(r);
    }
    Exchange rcv = receiving;
    if (rcv != null) {
      open.add(rcv); // its answer may be done while its request is still being written
    }
    for (Exchange e : open) {
      Local l = e.local;
      if (l != null) {
        l.close();
      }
      e.closeSession();
      if (e.rec != null && e.session == null) {
        edge.capture.finish(e.rec); // the connection is gone: what was seen is sent (once)
      }
    }
  }

  /** One request and its answer. */
  private final class Exchange {
    final boolean head;
    final HttpVersion version;
    final boolean upgrade;
    /** The caller asked to close after this answer (or it cannot be framed otherwise). */
    boolean closeAfter;
    final boolean keepAlive10;
    boolean ping;
    /** The edge's own answer, or null. */
    FullHttpResponse own;
    /** Replaced by the edge's thread when a pooled connection turned out closed (retry). */
    volatile Local local;
    final Recording rec;
    /** The request head, kept to send it again when a reused connection turns out closed. */
    ByteBuf retry;
    volatile boolean requestDone;
    /** Request done + response done: the second one sends the capture. */
    private final AtomicInteger halves = new AtomicInteger(2);
    /**
     * Request written + keep-alive answer read: the second one hands the local connection on (kept
     * for this connection's next request, or pooled). The service can answer before the session
     * thread is back from writing the request's end, and closing the connection then cost a dial per
     * such request (bench P3).
     */
    private final AtomicInteger localHolds = new AtomicInteger(2);
    /** A write to the local connection failed: it is closed, not pooled. */
    volatile boolean localBroken;
    // The edge's thread only:
    int status;
    boolean headSent;
    /** The answer's head went without Netty's encoder: its body goes as it is. */
    boolean rawBody;
    /** The request's head went without Netty's encoder (the session thread only). */
    boolean rawRequest;
    boolean localKeepAlive;
    boolean switched;
    String session;
    volatile WsFrameParser clientFrames;
    WsFrameParser serverFrames;
    private boolean sessionClosed;

    Exchange(HttpRequest req, Recording rec, boolean upgrade) {
      this.head = req.method().equals(HttpMethod.HEAD);
      this.version = req.protocolVersion();
      this.upgrade = upgrade;
      this.rec = rec;
      this.closeAfter = !HttpUtil.isKeepAlive(req);
      this.keepAlive10 = version.equals(HttpVersion.HTTP_1_0) && !closeAfter;
    }

    /**
     * One side is done with the local connection: the request's end is written (session thread), or
     * a keep-alive answer is read (the edge's thread). The second gives it to the pool, or closes it
     * when it broke or the connection is gone.
     */
    void localDone() {
      if (localHolds.decrementAndGet() != 0) {
        return;
      }
      Local l = local;
      local = null;
      if (l == null) {
        return;
      }
      if (localBroken || closed) {
        l.close();
      } else {
        keep(l);
      }
    }

    /** One half (request received, answer sent) is done; the capture goes once both are. */
    void settle() {
      if (halves.decrementAndGet() == 0 && rec != null && session == null) {
        edge.capture.finish(rec);
      }
    }

    void closeSession() {
      synchronized (this) {
        if (session == null || sessionClosed) {
          return;
        }
        sessionClosed = true;
      }
      WsFrameParser c = clientFrames;
      if (c != null) {
        c.close();
      }
      if (serverFrames != null) {
        serverFrames.close();
      }
      edge.capture.close(session, "");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The session thread: the caller's bytes.

  private final class Out extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("connection closed");
      }
      if (len == 0 || discard) {
        return;
      }
      if (!requestsNetty && receiving == null && raw == null) {
        HttpRequest req = PlainHttp.decodeRequest(b, off, len);
        if (req != null) {
          // What Netty's decoder makes of it: the head, then the empty end.
          try {
            ChannelHandlerContext ctx = requests.pipeline().lastContext();
            request(ctx, req);
            content(ctx, LastHttpContent.EMPTY_LAST_CONTENT);
          } catch (RuntimeException e) {
            throw new IOException(e);
          } finally {
            flushToLocal();
          }
          return;
        }
      }
      requestsNetty = true; // its decoder may keep state from here on: the short way is closed
      ByteBuf buf = DirectEdge.ALLOC.heapBuffer(len, len);
      buf.writeBytes(b, off, len);
      try {
        requests.writeInbound(buf);
      } catch (RuntimeException e) {
        throw new IOException(e);
      } finally {
        flushToLocal();
      }
    }

    @Override
    public void close() {
      shutdownOutput();
    }
  }

  /** The decoded requests (or, after an upgrade, raw bytes) of the caller. */
  private final class Requests extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf bytes) {
        rawFromCaller(bytes);
      } else if (msg instanceof HttpRequest req) {
        request(ctx, req);
        if (msg instanceof HttpContent c) {
          content(ctx, c);
        }
      } else if (msg instanceof HttpContent c) {
        content(ctx, c);
      }
    }
  }

  private void request(ChannelHandlerContext ctx, HttpRequest req) {
    flushToLocal();
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      HttpResponseStatus status = cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
          : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
          : HttpResponseStatus.BAD_REQUEST;
      log.debug("edge(tunnel={}) bad request: {}", edge.tunnelId, String.valueOf(cause));
      Exchange ex = new Exchange(req, null, false);
      ex.own = own(status, Unpooled.EMPTY_BUFFER, "Connection", "close");
      ex.closeAfter = true;
      ex.requestDone = true;
      discard = true;
      receiving = null;
      enqueue(ex);
      return;
    }
    HttpHeaders h = req.headers();
    if ("true".equals(h.get(TunnelEdgeVerticle.PING_HEADER))) {
      Exchange ex = new Exchange(req, null, false);
      ex.ping = true;
      ex.own = own(HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
      receive(ex);
      enqueue(ex);
      return;
    }
    Recording rec = edge.capture == null ? null : edge.capture.begin(h.get(HttpHeaderNames.HOST), req.uri(),
        req.method().name(), req.protocolVersion().equals(HttpVersion.HTTP_1_0) ? "HTTP/1.0" : "HTTP/1.1",
        new HeadersAdaptor(h));
    if (!edge.gate.allows(h.get(HttpHeaderNames.AUTHORIZATION))
        && !edge.replayKey.test(h.get(TunnelEdgeVerticle.REPLAY_KEY_HEADER))) {
      Exchange ex = new Exchange(req, rec, false);
      ownAnswer(ex, 401, Unpooled.wrappedBuffer(TunnelEdgeVerticle.UNAUTHORIZED_BYTES),
          TunnelEdgeVerticle.UNAUTHORIZED_HEADERS);
      receive(ex);
      enqueue(ex);
      return;
    }
    boolean upgrade = h.contains(HttpHeaderNames.UPGRADE)
        && DirectEdge.mentions(h, "Connection", "upgrade");
    Exchange ex = new Exchange(req, rec, upgrade);
    try {
      // Bounded: an idle pooled connection, else a dial of at most DIAL_TIMEOUT_MS; a channel that
      // closes meanwhile gets the connection closed by enqueue.
      Local own = takeSticky();
      ex.local = own != null ? own : edge.acquire();
    } catch (IOException e) {
      log.debug("edge(tunnel={}) local service {} unreachable: {}", edge.tunnelId, edge.local, e.toString());
      notOnline(ex);
      if (upgrade) {
        ex.closeAfter = true;
        discard = true;
      }
      receive(ex);
      enqueue(ex);
      return;
    }
    ex.local.decoder.head = ex.head;
    // What goes to the local service: Go's reverse proxy rules (hop-by-hop out, the caller appended
    // to X-Forwarded-For), HTTP/1.1 whatever the caller spoke; the replay key never.
    h.remove(TunnelEdgeVerticle.REPLAY_KEY_HEADER);
    String upgradeTo = h.get(HttpHeaderNames.UPGRADE);
    DirectEdge.dropHopByHop(h);
    if (upgrade) {
      h.set(HttpHeaderNames.UPGRADE, upgradeTo);
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }
    String forwardedFor = h.get("X-Forwarded-For");
    h.set("X-Forwarded-For", forwardedFor == null ? DirectEdge.CALLER : forwardedFor + ", " + DirectEdge.CALLER);
    req.setProtocolVersion(HttpVersion.HTTP_1_1);
    boolean bodiless = !HttpUtil.isTransferEncodingChunked(req) && HttpUtil.getContentLength(req, 0L) == 0L;
    if (bodiless && !upgrade && PlainHttp.plainRequest(req)) {
      ByteBuf head = DirectEdge.ALLOC.heapBuffer(256);
      PlainHttp.writeRequestHead(req, head);
      toLocal.add(head);
      ex.rawRequest = true;
    } else {
      ctx.writeAndFlush(req);
      drainRequests();
    }
    if (ex.local.reused && bodiless && !upgrade) {
      // Made before the exchange is queued: the channel thread may find the connection closed at once.
      ex.retry = Unpooled.buffer();
      for (ByteBuf b : toLocal) {
        ex.retry.writeBytes(b, b.readerIndex(), b.readableBytes());
      }
    }
    receiving = ex;
    enqueue(ex);
  }

  /** The edge answers itself and drops the request's body. */
  private void receive(Exchange ex) {
    receiving = ex;
  }

  private void content(ChannelHandlerContext ctx, HttpContent c) {
    Exchange ex = receiving;
    if (ex == null || ex.local == null) {
      c.release();
      if (ex != null && c instanceof LastHttpContent) {
        receiving = null;
        ex.requestDone = true;
        ex.settle();
      }
      return;
    }
    if (ex.rec != null && c.content().isReadable()) {
      ex.rec.requestBody.handle(BufferInternal.buffer(c.content()));
    }
    if (ex.rawRequest) {
      // Its head went without Netty's encoder: any body as it is (a bodiless request has none).
      if (c.content().isReadable()) {
        toLocal.add(c.content());
      } else {
        c.release();
      }
    } else {
      ctx.writeAndFlush(c);
      drainRequests();
    }
    if (c instanceof LastHttpContent) {
      flushToLocal();
      receiving = null;
      ex.requestDone = true;
      if (!ex.upgrade) {
        ex.localDone();
      }
      ex.settle();
      if (ex.upgrade) {
        raw = ex;
        // The caller's bytes from here on are the upgraded protocol's: the decoder goes, handing
        // on what it had read past the request.
        ctx.pipeline().remove(HttpRequestDecoder.class);
      }
    }
  }

  private void rawFromCaller(ByteBuf bytes) {
    Exchange ex = raw;
    if (ex == null || ex.local == null || discard) {
      bytes.release();
      return;
    }
    WsFrameParser frames = ex.clientFrames;
    if (frames != null) {
      frames.handle(BufferInternal.buffer(bytes.duplicate()));
    }
    toLocal.add(bytes);
  }

  private void drainRequests() {
    Object o;
    while ((o = requests.readOutbound()) != null) {
      ByteBuf b = (ByteBuf) o;
      if (b.isReadable()) {
        toLocal.add(b);
      } else {
        b.release();
      }
    }
  }

  /** Writes what was encoded for the exchange being received (or the raw connection) to its local connection. */
  private void flushToLocal() {
    if (toLocal.isEmpty()) {
      return;
    }
    Exchange ex = raw != null ? raw : receiving;
    try {
      if (ex != null && ex.local != null) {
        ByteBuffer[] bufs = new ByteBuffer[toLocal.size()];
        for (int i = 0; i < bufs.length; i++) {
          bufs[i] = toLocal.get(i).nioBuffer();
        }
        ex.local.write(bufs);
      }
    } catch (IOException e) {
      // The answer side finds the connection broken and answers (503) or ends the connection.
      log.debug("edge(tunnel={}) writing to {}: {}", edge.tunnelId, edge.local, e.toString());
      if (ex != null) {
        ex.localBroken = true;
      }
      if (ex == raw) {
        discard = true;
      }
    } finally {
      for (ByteBuf b : toLocal) {
        b.release();
      }
      toLocal.clear();
    }
  }

  /**
   * Queues the exchange for the edge's thread, before its request is written; after {@link #close}
   * (which sets {@code closed} before it takes the lock to close what is queued) its local
   * connection is closed instead, so a dial that ended after the channel closed leaves no socket
   * behind, and what was captured is sent.
   */
  private void enqueue(Exchange ex) {
    boolean schedule = false;
    lock.lock();
    try {
      if (!closed) {
        exchanges.add(ex);
        // On the watched connection, its answer wakes the edge's thread; anything else needs a look.
        schedule = watching == null || ex.local != watching;
        watching = null;
        return;
      }
    } finally {
      lock.unlock();
      if (schedule) {
        edge.schedule(this);
      }
    }
    if (ex.local != null) {
      ex.local.close();
    }
    ex.closeSession();
    if (ex.rec != null && ex.session == null) {
      edge.capture.finish(ex.rec); // as close() does for the exchanges it found queued
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The edge's thread: the answers.

  /**
   * Sends what can be sent and answers what can be answered without waiting: called by the edge's
   * thread when a local connection it watches for this connection has something ({@code trigger}),
   * when an exchange was queued that no watched connection will announce, at the caller's end, and
   * to retry a send the channel's window held back. Returns when it would wait; never throws.
   */
  void pump(Local trigger) {
    try {
      if (!sendUnsent()) {
        return; // the window is still used up: the edge retries
      }
      while (!closed && !finished) {
        if (answering == null) {
          Exchange ex;
          Local idle;
          boolean over;
          lock.lock();
          try {
            ex = exchanges.poll();
            over = ex == null && inputEnded;
            idle = ex == null ? sticky : null;
            watching = idle;
          } finally {
            lock.unlock();
          }
          if (over) {
            finished = true;
            break;
          }
          if (ex == null) {
            if (idle == null) {
              return;
            }
            // After an answer that emptied the socket, the selector, not a read, says what comes next.
            int n = idle == trigger && !idle.drained ? readLocal(idle) : 0;
            if (n == 0) {
              edge.watch(idle, this);
              return;
            }
            // Something came on the idle connection: the answer to a request the session thread
            // has just sent on it (queued before it was written), or the service closed it or
            // spoke unasked.
            if (!awaited(idle)) {
              idle.close();
              return;
            }
            if (n > 0) {
              idle.unread = lastRead(n); // read again when that exchange's turn comes
            }
            continue;
          }
          answering = ex;
          continue;
        }
        Exchange ex = answering;
        if (ex.own != null) {
          sendOwn(ex);
        } else {
          int n = readLocal(ex.local);
          if (n == 0) {
            edge.watch(ex.local, this);
            return;
          }
          if (ex.switched) {
            relayed(ex, n);
          } else {
            received(ex, n);
          }
        }
        if (!send()) {
          return;
        }
      }
      if (send()) {
        ended.countDown(); // all sent: the channel thread gives the end of stream, JSch the EOF
      }
    } catch (IOException e) {
      if (!closed) {
        log.debug("edge(tunnel={}) sending to the relay: {}", edge.tunnelId, e.toString());
      }
      close();
    } catch (RuntimeException e) {
      log.warn("edge(tunnel={}) answering failed", edge.tunnelId, e);
      close();
    }
  }

  /**
   * True when a queued exchange's request went on {@code l}; else {@code l} is no longer kept (it
   * is to be closed).
   */
  private boolean awaited(Local l) {
    lock.lock();
    try {
      if (watching == l) {
        watching = null;
      }
      for (Exchange e : exchanges) {
        if (e.local == l) {
          return true;
        }
      }
      if (sticky == l) {
        sticky = null;
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Sends everything encoded so far as one write into the channel (an answer's head and body are
   * separate buffers: one send each cost the relay, the public socket and this thread a packet and
   * a write more per response). False when the channel's window held some back: kept in
   * {@link #unsent}, and the edge retries.
   */
  private boolean send() throws IOException {
    if (pending.isEmpty()) {
      return true;
    }
    int total = 0;
    for (ByteBuf b : pending) {
      total += b.readableBytes();
    }
    byte[] buf = edge.sendBuffer;
    if (buf.length < total) {
      buf = edge.sendBuffer = new byte[total];
    }
    int n = 0;
    ByteBuf p;
    while ((p = pending.poll()) != null) {
      int k = p.readableBytes();
      p.readBytes(buf, n, k);
      n += k;
      p.release();
    }
    int sent = sink.offer(buf, 0, n);
    if (sent < n) {
      unsent = java.util.Arrays.copyOfRange(buf, sent, n);
      unsentOff = 0;
      edge.stalled(this);
      return false;
    }
    return true;
  }

  /** What the window held back before, if any: false while some is still held back. */
  private boolean sendUnsent() throws IOException {
    if (unsent == null) {
      return true;
    }
    unsentOff += sink.offer(unsent, unsentOff, unsent.length - unsentOff);
    if (unsentOff < unsent.length) {
      edge.stalled(this);
      return false;
    }
    unsent = null;
    return true;
  }

  private final class In extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    /** Nothing: the edge's thread sends the answers. Waits for the end (bounded by the connection's). */
    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        while (!ended.await(WAIT_MS, TimeUnit.MILLISECONDS) && !closed) {
          // The edge's thread counts it down, or close() does.
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
      return -1;
    }

    @Override
    public void close() {
      DirectConnection.this.close();
    }
  }

  /**
   * Takes this connection's own idle local connection for the next request, or null (then the
   * pool's). One idle for a while is looked at first, unless the channel thread is reading it (it
   * would have seen it end).
   */
  private Local takeSticky() {
    Local s;
    lock.lock();
    try {
      s = sticky;
      sticky = null;
    } finally {
      lock.unlock();
    }
    if (s != null && System.nanoTime() - s.idleSince > DirectEdge.CHECK_IDLE_NANOS && !s.stillOpen()) {
      s.close();
      return null;
    }
    return s;
  }

  /** A keep-alive local connection done with its exchange: kept for this connection's next request, or pooled. */
  private void keep(Local l) {
    lock.lock();
    try {
      if (sticky == null && !closed && !inputEnded) {
        l.reused = true;
        l.idleSince = System.nanoTime();
        sticky = l;
        return;
      }
    } finally {
      lock.unlock();
    }
    edge.release(l);
  }

  /**
   * One read of a local connection into this connection's read buffer, without waiting: the byte
   * count, 0 when it has nothing yet, or -1 when it ended or failed.
   */
  private int readLocal(Local l) {
    if (readBuffer == null) {
      readBuffer = ByteBuffer.allocate(READ_SIZE);
    }
    readBuffer.clear();
    ByteBuf unread = l.unread;
    if (unread != null) {
      l.unread = null;
      int n = unread.readableBytes();
      unread.readBytes(readBuffer.array(), 0, n);
      unread.release();
      return n;
    }
    try {
      int n = l.ch.read(readBuffer);
      l.drained = n >= 0 && readBuffer.hasRemaining();
      return n;
    } catch (IOException e) {
      if (!closed) {
        log.debug("edge(tunnel={}) reading from {}: {}", edge.tunnelId, edge.local, e.toString());
      }
      return -1;
    }
  }

  /** A copy of the {@code n} bytes {@link #readLocal} just read (the read buffer is used again). */
  private ByteBuf lastRead(int n) {
    return copyOfRead(0, n);
  }

  private ByteBuf copyOfRead(int from, int n) {
    ByteBuf buf = DirectEdge.ALLOC.heapBuffer(n, n);
    buf.writeBytes(readBuffer.array(), from, n);
    return buf;
  }

  /** The {@code n} bytes just read (or the end, -1) of the exchange's local connection. */
  private void received(Exchange ex, int n) throws IOException {
    if (n < 0) {
      localEnded(ex);
      return;
    }
    Local l = ex.local;
    if (!l.netty && !ex.upgrade && !ex.head && ex.status == 0) {
      PlainHttp.Response d = PlainHttp.decodeResponse(readBuffer.array(), n);
      if (d != null) {
        // What Netty's decoder makes of it: the head, then the body as the last content.
        fromLocal(ex, d.head());
        fromLocal(ex, d.bodyLength() == 0 ? LastHttpContent.EMPTY_LAST_CONTENT
            : new DefaultLastHttpContent(copyOfRead(d.bodyStart(), d.bodyLength())));
        return;
      }
    }
    l.netty = true; // its decoder may keep state from here on: the short way is closed for this connection
    ByteBuf buf = lastRead(n);
    if (ex.upgrade) {
      // Relayed as it is; a copy is decoded for the status (and the capture).
      pending.add(buf.retainedDuplicate());
    }
    l.responses.writeInbound(buf);
    Object o;
    while ((o = l.responses.readInbound()) != null) {
      fromLocal(ex, o);
    }
  }

  /** The local connection ended before the answer was complete. */
  private void localEnded(Exchange ex) throws IOException {
    Local l = ex.local;
    if (closed) {
      l.close();
      finished = true;
      return;
    }
    if (!ex.headSent && ex.status == 0) {
      l.close();
      if (ex.retry != null && !closed) {
        // A pooled connection the service had closed: once more on a new one.
        ByteBuf again = ex.retry;
        ex.retry = null;
        try {
          ex.local = edge.dial();
          ex.local.decoder.head = ex.head;
          ex.local.write(new ByteBuffer[] {again.nioBuffer()});
          return;
        } catch (IOException e) {
          log.debug("edge(tunnel={}) local service {} unreachable: {}", edge.tunnelId, edge.local, e.toString());
        } finally {
          again.release();
        }
      }
      if (!ex.requestDone || ex.upgrade) {
        ex.closeAfter = true;
      }
      ex.local = null;
      notOnline(ex);
      sendOwn(ex);
      return;
    }
    if (ex.switched) {
      finished = true; // the raw connection's local side ended: end of stream, the relay's side goes on
      return;
    }
    // A response delimited by the connection's end completes now; anything else was cut short.
    l.responses.pipeline().fireChannelInactive();
    Object o;
    while ((o = l.responses.readInbound()) != null) {
      fromLocal(ex, o);
    }
    if (answering == ex) {
      l.close();
      finished = true;
    }
  }

  private void fromLocal(Exchange ex, Object o) {
    if (answering != ex) {
      io.netty.util.ReferenceCountUtil.release(o); // what a broken answer left in the decoder
      return;
    }
    if (ex.switched) {
      if (o instanceof ByteBuf raw) {
        if (ex.serverFrames != null) {
          ex.serverFrames.handle(BufferInternal.buffer(raw));
        } else {
          raw.release();
        }
      } else if (o instanceof io.netty.util.ReferenceCounted r) {
        r.release();
      }
      return;
    }
    if (o instanceof HttpResponse r) {
      response(ex, r);
      if (o instanceof HttpContent c) {
        responseContent(ex, c);
      }
    } else if (o instanceof HttpContent c) {
      responseContent(ex, c);
    } else if (o instanceof io.netty.util.ReferenceCounted r) {
      r.release();
    }
  }

  private void response(Exchange ex, HttpResponse r) {
    if (r.decoderResult().isFailure()) {
      log.debug("edge(tunnel={}) bad answer from {}: {}", edge.tunnelId, edge.local,
          String.valueOf(r.decoderResult().cause()));
      ex.local.close();
      ex.local = null;
      ex.closeAfter = true;
      ex.own = null;
      if (!ex.headSent) {
        notOnline(ex);
        pending.clear();
        sendOwn(ex);
      } else {
        finished = true;
        answering = null;
      }
      return;
    }
    int code = r.status().code();
    HttpHeaders h = r.headers();
    boolean interim = code >= 100 && code < 200 && code != 101;
    if (!interim) {
      ex.status = code;
      if (edge.metrics != null) {
        edge.metrics.tunnelResponse(code);
      }
      if (ex.rec != null) {
        ex.rec.status = code;
        ex.rec.responseHeaders = edge.capture.headers.response(new HeadersAdaptor(h), !ex.upgrade);
      }
    }
    if (ex.upgrade) {
      if (code == 101) {
        ex.switched = true;
        if (ex.rec != null) {
          ex.session = edge.capture.open(ex.rec);
          ex.serverFrames = edge.capture.frames(ex.session, "server");
          ex.clientFrames = edge.capture.frames(ex.session, "client");
          if (closed) {
            ex.closeSession();
          }
        }
        ex.local.decoder.head = false;
      } else if (!interim) {
        ex.closeAfter = true; // relayed as it came; the connection ends with it
      }
      return;
    }
    if (interim) {
      DirectEdge.dropHopByHop(h);
      encode(ex, r);
      return;
    }
    ex.localKeepAlive = HttpUtil.isKeepAlive(r);
    DirectEdge.dropHopByHop(h);
    boolean empty = ex.head || code == 204 || code == 304;
    if (!empty && !h.contains(HttpHeaderNames.CONTENT_LENGTH) && !HttpUtil.isTransferEncodingChunked(r)) {
      // Delimited by the local connection's end: chunked to the caller, or the end of ours.
      ex.localKeepAlive = false;
      if (ex.version.equals(HttpVersion.HTTP_1_1)) {
        HttpUtil.setTransferEncodingChunked(r, true);
      } else {
        ex.closeAfter = true;
      }
    }
    if (ex.closeAfter) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (ex.keepAlive10) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    if (ex.rec != null && !ex.rec.parentId.isEmpty()) {
      h.set(TunnelEdgeVerticle.REQUEST_ID_HEADER, ex.rec.id);
    }
    r.setProtocolVersion(ex.version);
    encode(ex, r);
    ex.headSent = true;
  }

  private void responseContent(Exchange ex, HttpContent c) {
    if (ex.rec != null && c.content().isReadable() && ex.status != 0) {
      ex.rec.responseBody.handle(BufferInternal.buffer(c.content()));
    }
    boolean last = c instanceof LastHttpContent;
    if (ex.upgrade) {
      c.release();
    } else {
      encode(ex, c);
    }
    if (!last || ex.status == 0) {
      return; // an interim answer's end: the final one follows
    }
    if (ex.localKeepAlive && !ex.upgrade && !closed) {
      ex.localDone(); // pooled once the request's end is written too (which may still be under way)
    } else {
      Local l = ex.local;
      ex.local = null;
      l.close();
    }
    done(ex);
  }

  private void done(Exchange ex) {
    if (ex.retry != null) {
      ex.retry.release();
      ex.retry = null;
    }
    ex.settle();
    answering = null;
    if (ex.closeAfter) {
      finished = true;
    }
  }

  /** After a 101: the {@code n} bytes just read (or the end, -1) go on as they came (a copy to the frame parser when recording). */
  private void relayed(Exchange ex, int n) {
    if (n < 0) {
      if (ex.serverFrames != null) {
        ex.serverFrames.close();
        ex.serverFrames = null;
      }
      finished = true; // the raw connection's local side ended: end of stream, the relay's side goes on
      return;
    }
    ByteBuf buf = lastRead(n);
    if (ex.serverFrames != null) {
      ex.serverFrames.handle(BufferInternal.buffer(buf.duplicate()));
    }
    pending.add(buf);
  }

  private void encode(Exchange ex, HttpObject o) {
    if (ex.rawBody && o instanceof HttpContent c) {
      // The rest of an answer whose head went the short way: its bytes as they are, as Netty's
      // encoder passes on a Content-Length body (trailers are dropped there too).
      ex.rawBody = !(c instanceof LastHttpContent);
      if (c.content().isReadable()) {
        pending.add(c.content());
      } else {
        c.release();
      }
      return;
    }
    if (o instanceof HttpResponse r && !(o instanceof HttpContent) && PlainHttp.plainResponse(r, ex.head)) {
      ByteBuf head = DirectEdge.ALLOC.heapBuffer(256);
      PlainHttp.writeResponseHead(r, head);
      pending.add(head);
      ex.rawBody = true;
      return;
    }
    encoder.head = ex.head;
    responses.writeOutbound(o);
    Object b;
    while ((b = responses.readOutbound()) != null) {
      ByteBuf buf = (ByteBuf) b;
      if (buf.isReadable()) {
        pending.add(buf);
      } else {
        buf.release();
      }
    }
  }

  private void sendOwn(Exchange ex) {
    FullHttpResponse r = ex.own;
    if (edge.metrics != null && !ex.ping) {
      edge.metrics.tunnelResponse(r.status().code());
    }
    if (ex.closeAfter && !r.headers().contains(HttpHeaderNames.CONNECTION)) {
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    r.setProtocolVersion(ex.version.equals(HttpVersion.HTTP_1_0) ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
    if (ex.head) {
      r.content().clear();
    }
    ex.status = r.status().code();
    encode(ex, r);
    done(ex);
  }

  /** The 503 {@code local-server-not-online} answer, recorded. */
  private void notOnline(Exchange ex) {
    ownAnswer(ex, 503, Unpooled.wrappedBuffer(edge.notOnlinePage), TunnelEdgeVerticle.NOT_ONLINE_HEADERS);
  }

  private void ownAnswer(Exchange ex, int status, ByteBuf body, String[] headerPairs) {
    Recording r = ex.rec;
    if (r != null) {
      r.own(edge.capture.headers, status, ex.head ? null : BufferInternal.buffer(body.duplicate()), headerPairs);
    }
    String[] pairs = TunnelEdgeVerticle.withRequestId(r, headerPairs);
    ex.own = own(HttpResponseStatus.valueOf(status), body, pairs);
  }

  /** An answer of the edge's own, headers byte for byte, with its length (a HEAD's too). */
  private static FullHttpResponse own(HttpResponseStatus status, ByteBuf body, String... headerPairs) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    for (int i = 0; i + 1 < headerPairs.length; i += 2) {
      r.headers().add(headerPairs[i], headerPairs[i + 1]);
    }
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(body.readableBytes()));
    return r;
  }
}
