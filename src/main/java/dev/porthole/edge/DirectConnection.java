package dev.porthole.edge;

import dev.porthole.edge.DirectEdge.Local;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One forwarded connection of a {@link DirectEdge}: an HTTP/1.1 keep-alive server connection read
 * off the SSH channel. {@link #out} is written by JSch's session thread (the caller's bytes): they
 * are decoded, each request is checked (ping, gate, upgrade), queued as an exchange and streamed to
 * a pooled local connection. {@link #in} is read by the channel's JSch thread: it takes the
 * exchanges in order and gives their responses (the edge's own, or the local service's, decoded
 * and re-encoded with the hop-by-hop headers dropped, trailers kept) as the bytes to send back.
 * After an upgrade request the connection carries raw bytes both ways.
 */
public final class DirectConnection {
  private static final Logger log = LoggerFactory.getLogger(DirectConnection.class);
  private static final long WAIT_MS = 1_000;
  private static final int READ_SIZE = 32 * 1024;

  private final DirectEdge edge;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition queued = lock.newCondition();
  /** Exchanges whose answers are not sent yet, in request order (guarded by lock). */
  private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
  private boolean inputEnded;
  private volatile boolean closed;

  // The session thread's side (the caller's bytes).
  private final EmbeddedChannel requests = new EmbeddedChannel();
  private final List<ByteBuf> toLocal = new ArrayList<>();
  /** The exchange whose request is being received. */
  private Exchange receiving;
  /** The rest of the input is dropped (a malformed request, an upgrade that failed). */
  private boolean discard;
  /** After an upgrade's request: raw bytes to {@link #raw}'s local connection. */
  private Exchange raw;

  // The channel thread's side (the answers).
  private final EmbeddedChannel responses = new EmbeddedChannel();
  private final DirectEdge.ResponseEncoder encoder = new DirectEdge.ResponseEncoder();
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
  private Exchange answering;
  private boolean finished;

  private final InputStream in = new In();
  private final OutputStream out = new Out();

  DirectConnection(DirectEdge edge) {
    this.edge = edge;
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

  /** What goes back to the relay: read by the channel's JSch thread; end of stream = done. */
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
    lock.lock();
    try {
      inputEnded = true;
      queued.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The channel is gone: every local connection in use is closed, every wait ends. */
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<Exchange> open;
    lock.lock();
    try {
      open = new ArrayList<>(exchanges);
      queued.signalAll();
    } finally {
      lock.unlock();
    }
    Exchange a = answering;
    if (a != null) {
      open.add(a);
    }
    Exchange r = raw;
    if (r != null) {
      open.add(r);
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
    Local local;
    final Recording rec;
    /** The request head, kept to send it again when a reused connection turns out closed. */
    ByteBuf retry;
    volatile boolean requestDone;
    /** Request done + response done: the second one sends the capture. */
    private final AtomicInteger halves = new AtomicInteger(2);
    // Channel thread only:
    int status;
    boolean headSent;
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
      ex.local = edge.acquire();
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
    receiving = ex;
    enqueue(ex);
    ctx.writeAndFlush(req);
    drainRequests();
    if (ex.local.reused && bodiless && !upgrade) {
      ex.retry = Unpooled.buffer();
      for (ByteBuf b : toLocal) {
        ex.retry.writeBytes(b, b.readerIndex(), b.readableBytes());
      }
    }
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
    ctx.writeAndFlush(c);
    drainRequests();
    if (c instanceof LastHttpContent) {
      flushToLocal();
      receiving = null;
      ex.requestDone = true;
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
   * Queues the exchange for the channel thread; after {@link #close} (which sets {@code closed}
   * before it takes the lock to close what is queued) its local connection is closed instead, so
   * a dial that ended after the channel closed leaves no socket behind, and what was captured is sent.
   */
  private void enqueue(Exchange ex) {
    lock.lock();
    try {
      if (!closed) {
        exchanges.add(ex);
        queued.signalAll();
        return;
      }
    } finally {
      lock.unlock();
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
  // The channel thread: the answers.

  private final class In extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (true) {
        ByteBuf p = pending.peek();
        if (p != null) {
          int n = Math.min(len, p.readableBytes());
          p.readBytes(b, off, n);
          if (!p.isReadable()) {
            pending.poll().release();
          }
          return n;
        }
        if (finished || closed) {
          return -1;
        }
        if (answering == null) {
          answering = next();
          if (answering == null) {
            finished = true;
            return -1;
          }
        }
        advance(answering);
      }
    }

    @Override
    public void close() {
      DirectConnection.this.close();
    }
  }

  /** The next exchange to answer; null when the caller's side has ended and all are answered. */
  private Exchange next() throws IOException {
    lock.lock();
    try {
      while (exchanges.isEmpty()) {
        if (inputEnded || closed) {
          return null;
        }
        try {
          queued.await(WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted");
        }
      }
      return exchanges.poll();
    } finally {
      lock.unlock();
    }
  }

  /** Produces the next bytes of the exchange's answer into {@link #pending}, or ends it. */
  private void advance(Exchange ex) throws IOException {
    if (ex.own != null) {
      sendOwn(ex);
      return;
    }
    if (ex.switched) {
      relayRaw(ex);
      return;
    }
    Local l = ex.local;
    ByteBuf buf = DirectEdge.ALLOC.heapBuffer(READ_SIZE, READ_SIZE);
    int n;
    try {
      n = l.ch.read(buf.nioBuffer(0, READ_SIZE));
    } catch (IOException e) {
      n = -1;
      if (!closed) {
        log.debug("edge(tunnel={}) reading from {}: {}", edge.tunnelId, edge.local, e.toString());
      }
    }
    if (n < 0) {
      buf.release();
      localEnded(ex);
      return;
    }
    buf.writerIndex(n);
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
    Local l = ex.local;
    ex.local = null;
    if (ex.localKeepAlive && ex.requestDone && !ex.upgrade && !closed) {
      edge.release(l);
    } else {
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

  /** After a 101: the local service's bytes as they come (a copy to the frame parser when recording). */
  private void relayRaw(Exchange ex) {
    ByteBuf buf = DirectEdge.ALLOC.heapBuffer(READ_SIZE, READ_SIZE);
    int n;
    try {
      n = ex.local.ch.read(buf.nioBuffer(0, READ_SIZE));
    } catch (IOException e) {
      n = -1;
    }
    if (n < 0) {
      buf.release();
      if (ex.serverFrames != null) {
        ex.serverFrames.close();
        ex.serverFrames = null;
      }
      finished = true;
      return;
    }
    buf.writerIndex(n);
    if (ex.serverFrames != null) {
      ex.serverFrames.handle(BufferInternal.buffer(buf.duplicate()));
    }
    pending.add(buf);
  }

  private void encode(Exchange ex, HttpObject o) {
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
