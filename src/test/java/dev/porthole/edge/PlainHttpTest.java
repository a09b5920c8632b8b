package dev.porthole.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The direct edge's short way for whole bodiless requests and whole Content-Length answers: what it
 * takes it decodes exactly as Netty's decoders (with the edge's settings) do, what it leaves it
 * leaves untouched, and the heads it writes are Netty's encoders' bytes.
 */
class PlainHttpTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** What a Netty decoder makes of the bytes. */
  private static List<Object> decoded(ChannelHandler decoder, byte[] in) {
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    ch.writeInbound(Unpooled.wrappedBuffer(in));
    List<Object> out = new ArrayList<>();
    Object o;
    while ((o = ch.readInbound()) != null) {
      out.add(o);
    }
    ch.finishAndReleaseAll();
    return out;
  }

  /** The bytes a Netty encoder writes for the messages. */
  private static String encoded(ChannelHandler encoder, Object... messages) {
    EmbeddedChannel ch = new EmbeddedChannel(encoder);
    ch.writeOutbound(messages);
    StringBuilder b = new StringBuilder();
    Object o;
    while ((o = ch.readOutbound()) != null) {
      ByteBuf buf = (ByteBuf) o;
      b.append(buf.toString(StandardCharsets.ISO_8859_1));
      buf.release();
    }
    ch.finishAndReleaseAll();
    return b.toString();
  }

  private static String describe(HttpResponse r) {
    StringBuilder b = new StringBuilder(r.protocolVersion() + " " + r.status().code() + " [" + r.status().reasonPhrase()
        + "]");
    for (Map.Entry<String, String> h : r.headers()) {
      b.append("\n").append(h.getKey()).append("=[").append(h.getValue()).append("]");
    }
    return b.toString();
  }

  @Test
  void whole_answers_decode_as_nettys_decoder_decodes_them() {
    String body = "x".repeat(1024);
    List<String> answers = List.of(
        "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: text/plain\r\n\r\n" + body,
        "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi",
        "HTTP/1.1 404 Not Found Here\r\ncontent-length: 0\r\n\r\n",
        "HTTP/1.1 599 Own\tReason \u00e9t\u00e9\r\nContent-Length: 3\r\nX-Empty:\r\nX-Pad: \t v a l \t \r\n"
            + "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Latin: caf\u00e9\r\n\r\nabc",
        "HTTP/1.1 201 Created\r\nLocation: /a\r\nContent-Length: 5\r\nX-Weird-Token!#$%&'*+-.^_`|~: ok\r\n\r\nhello");
    for (String a : answers) {
      byte[] in = bytes(a);
      PlainHttp.Response d = PlainHttp.decodeResponse(in, in.length);
      assertThat(d).as(a).isNotNull();
      List<Object> expected = decoded(new DirectEdge.ResponseDecoder(), in);
      HttpResponse head = (HttpResponse) expected.get(0);
      assertThat(describe(d.head())).as(a).isEqualTo(describe(head));
      StringBuilder expectedBody = new StringBuilder();
      for (Object o : expected.subList(1, expected.size())) {
        HttpContent c = (HttpContent) o;
        expectedBody.append(c.content().toString(StandardCharsets.ISO_8859_1));
        c.release();
      }
      assertThat(expected.get(expected.size() - 1)).isInstanceOf(LastHttpContent.class);
      assertThat(new String(in, d.bodyStart(), d.bodyLength(), StandardCharsets.ISO_8859_1)).as(a)
          .isEqualTo(expectedBody.toString());
    }
  }

  @Test
  void anything_else_is_left_to_netty() {
    String ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    List<String> others = List.of(
        ok.substring(0, ok.length() - 1), // the body not all read yet
        ok + "HTTP/1.1 200 OK\r\n", // more than the answer
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", // the head not all read yet
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: identity\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\n\r\nhi", // delimited by the connection's end
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length: 02\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nhi",
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nhi", // no reason
        "HTTP/1.1 200  OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK \r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Folded: a\r\n b\r\n\r\nhi",
        "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", // bare LF
        "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nX-Ctl: a\u0001b\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nX-Del: a\u007fb\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nX/Bad: a\r\nContent-Length: 2\r\n\r\nhi",
        " HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 600 Beyond\r\nContent-Length: 2\r\n\r\nhi",
        "HTTP/1.1 200 OK\r\nX-Long: " + "a".repeat(PlainHttp.MAX_HEAD) + "\r\nContent-Length: 2\r\n\r\nhi",
        "");
    for (String a : others) {
      byte[] in = bytes(a);
      assertThat(PlainHttp.decodeResponse(in, in.length)).as(a).isNull();
    }
  }

  @Test
  void only_the_first_n_bytes_count() {
    byte[] in = bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi and what a reused read buffer still holds");
    PlainHttp.Response d = PlainHttp.decodeResponse(in, in.length - " and what a reused read buffer still holds".length());
    assertThat(d).isNotNull();
    assertThat(new String(in, d.bodyStart(), d.bodyLength(), StandardCharsets.ISO_8859_1)).isEqualTo("hi");
  }

  @Test
  void heads_are_written_as_nettys_encoder_writes_them() {
    List<HttpResponse> heads = new ArrayList<>();
    heads.add(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
    heads.add(new DefaultHttpResponse(HttpVersion.HTTP_1_0, HttpResponseStatus.valueOf(404, "Gone Fishing")));
    heads.add(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(599, "\u00e9t\u00e9 \u20ac")));
    heads.add(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(200, "")));
    for (HttpResponse r : heads) {
      r.headers().add("Content-Length", "3").add("set-cookie", "a=1").add("Set-Cookie", "b=2")
          .add("X-Latin", "caf\u00e9 \u20ac").add("X-Empty", "");
      assertThat(PlainHttp.plainResponse(r, false)).isTrue();
      ByteBuf out = Unpooled.buffer();
      PlainHttp.writeResponseHead(r, out);
      assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo(encoded(new HttpResponseEncoder(), r));
    }
    HttpResponse r = heads.get(0);
    assertThat(PlainHttp.plainResponse(r, true)).as("to a HEAD").isFalse();
    r.headers().set("Transfer-Encoding", "chunked");
    assertThat(PlainHttp.plainResponse(r, false)).as("chunked").isFalse();
    r.headers().remove("Transfer-Encoding").remove("Content-Length");
    assertThat(PlainHttp.plainResponse(r, false)).as("no length").isFalse();
    for (int code : new int[] {100, 101, 204, 205, 304}) {
      HttpResponse b = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code));
      b.headers().set("Content-Length", "0");
      assertThat(PlainHttp.plainResponse(b, false)).as("%d", code).isFalse();
    }
  }

  private static String describe(HttpRequest r) {
    StringBuilder b = new StringBuilder(r.method().name() + " [" + r.uri() + "] " + r.protocolVersion()
        + " " + r.decoderResult());
    for (Map.Entry<String, String> h : r.headers()) {
      b.append("\n").append(h.getKey()).append("=[").append(h.getValue()).append("]");
    }
    return b.toString();
  }

  @Test
  void whole_bodiless_requests_decode_as_nettys_decoder_decodes_them() {
    List<String> requests = List.of(
        "GET / HTTP/1.1\r\nHost: bench-p3.localhost:8080\r\n\r\n",
        "GET /a/b?c=d&e=%20f HTTP/1.0\r\nHost: x\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n",
        "DELETE /items/7 HTTP/1.1\r\nhost: x\r\nContent-Length: 0\r\nX-Pad: \t v a l \t \r\nX-Empty:\r\n\r\n",
        "PURGE /cache HTTP/1.1\r\nHost: x\r\nCookie: a=1\r\nCookie: b=2\r\nX-Latin: caf\u00e9\r\n\r\n",
        "OPTIONS /{weird}\"<chars>|^`~ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n");
    for (String a : requests) {
      byte[] in = bytes("padding" + a + "and the rest of a reused buffer");
      HttpRequest d = PlainHttp.decodeRequest(in, "padding".length(), a.length());
      assertThat(d).as(a).isNotNull();
      List<Object> expected = decoded(new HttpRequestDecoder(DirectEdge.decoderConfig()), bytes(a));
      assertThat(expected).as(a).hasSize(2);
      assertThat(describe(d)).as(a).isEqualTo(describe((HttpRequest) expected.get(0)));
      assertThat(expected.get(1)).isSameAs(LastHttpContent.EMPTY_LAST_CONTENT);
    }
  }

  @Test
  void requests_out_of_the_ordinary_are_left_to_netty() {
    List<String> others = List.of(
        "GET / HTTP/1.1\r\nHost: x\r\n", // not all there yet
        "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n", // pipelined
        "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
        "POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 00\r\n\r\n",
        "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "GET /\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\n\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\u0000y\r\n\r\n",
        " GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /" + "a".repeat(PlainHttp.MAX_HEAD) + " HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nX-Long: " + "a".repeat(PlainHttp.MAX_HEAD) + "\r\n\r\n",
        "");
    for (String a : others) {
      byte[] in = bytes(a);
      assertThat(PlainHttp.decodeRequest(in, 0, in.length)).as(a).isNull();
    }
  }

  @Test
  void request_heads_are_written_as_nettys_encoder_writes_them() {
    for (String uri : new String[] {"/", "/a/b?c=d&e=%20f", "/{weird}\"<chars>|^`~"}) {
      for (HttpMethod m : new HttpMethod[] {HttpMethod.GET, HttpMethod.DELETE, HttpMethod.valueOf("PURGE")}) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, uri);
        r.headers().add("Host", "x").add("cookie", "a=1").add("Cookie", "b=2").add("X-Latin", "caf\u00e9 \u20ac")
            .add("X-Empty", "").add("X-Forwarded-For", "1.2.3.4, 127.0.0.1");
        assertThat(PlainHttp.plainRequest(r)).isTrue();
        ByteBuf out = Unpooled.buffer();
        PlainHttp.writeRequestHead(r, out);
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo(encoded(new HttpRequestEncoder(), r, LastHttpContent.EMPTY_LAST_CONTENT));
      }
    }
    for (String uri : new String[] {"", "*", "http://x", "http://x/a", "/\u00e9"}) {
      assertThat(PlainHttp.plainRequest(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri)))
          .as(uri).isFalse();
    }
  }
}
