package dev.porthole.edge;

import com.github.f4b6a3.ulid.UlidCreator;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;

/** One exchange being recorded: begun when the request arrives, sent when its response is done. */
final class Recording {
  final String id = UlidCreator.getMonotonicUlid().toString();
  final long startNanos = System.nanoTime();
  final String host;
  final String url;
  final String method;
  final String protocol;
  final Map<String, List<String>> requestHeaders;
  /** The first {@code X-Portr-Replayed-Request-Id}, or empty. */
  String parentId = "";
  final BodyCopy requestBody;
  final BodyCopy responseBody;
  int status;
  Map<String, List<String>> responseHeaders;
  private boolean done;

  Recording(String host, String url, String method, String protocol, CapturedHeaders headers,
      io.vertx.core.MultiMap requestHeaders, CopyBudget budget) {
    this.requestBody = new BodyCopy(budget);
    this.responseBody = new BodyCopy(budget);
    this.host = host;
    this.url = url;
    this.method = method;
    this.protocol = protocol;
    this.requestHeaders = headers.request(requestHeaders, this);
  }

  /** The edge answered itself (401, 503): its status, headers and the body it sent. */
  void own(CapturedHeaders headers, int status, Buffer sentBody, String... headerPairs) {
    this.status = status;
    this.responseHeaders = headers.own(headerPairs);
    if (sentBody != null) {
      responseBody.handle(sentBody);
    }
  }

  /** True the first time only: an exchange is sent once. */
  synchronized boolean finish() {
    if (done) {
      return false;
    }
    done = true;
    return true;
  }

  /** The bodies' copies given back to the budget (once they are in the sent capture, or abandoned). */
  void release() {
    requestBody.release();
    responseBody.release();
  }

  long elapsedMs() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
