package dev.porthole.ui;

import dev.porthole.bridge.EventBusBridge;
import dev.porthole.httpkit.ApiResponses;
import dev.porthole.httpkit.HtmlPages;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The dashboard's static files at {@code /ui/}, all from one classpath folder ({@code porthole/ui/}):
 * the page, its script and style, the event-bus bridge client (vendored, {@code vertx-eventbus.js})
 * and sockjs-client's browser build at {@link EventBusBridge#LIBRARY_URL} (copied there from its
 * WebJar by the build: served from inside the WebJar, its first request made Vert.x extract all of
 * the jar's META-INF, a second of a cold first load). The page is the same for everyone and holds
 * nothing secret, so it is served without the API credential (the browser brings that to the bridge);
 * the front door's Host/Origin rules still apply. {@code /} and {@code /ui} redirect to {@code /ui/}.
 *
 * <p>Every answer under {@code /ui/} is {@code Cache-Control: no-cache} (revalidated with its
 * Last-Modified, so a new jar's page is seen at once) with a strict Content-Security-Policy:
 * scripts, styles and connections to this origin only, no framing.
 */
public final class Dashboard {
  /** Where the page lives. */
  public static final String PATH = "/ui/";
  /** The classpath folder of the page's own files. */
  static final String WEBROOT = "porthole/ui";
  static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private Dashboard() {
  }

  /** Mounts the redirects and {@code /ui/*}; call before the API's credential step. */
  public static void mount(Vertx vertx, Router router) {
    router.route("/").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(rc -> redirect(rc, 302));
    // A route's path matches with or without its trailing slash: /ui/ itself must not redirect.
    router.route("/ui").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(rc -> {
          if (rc.request().path().equals("/ui")) {
            redirect(rc, 301);
          } else {
            rc.next();
          }
        });

    Router ui = Router.router(vertx);
    ui.route().handler(Dashboard::headers);
    // "/*", not every path: the routes' own description (OpenApiRoutesTest) sees the files served here.
    ui.route("/*").handler(StaticHandler.create(WEBROOT).setDirectoryListing(false).setIncludeHidden(false)
        .setIndexPage("index.html").setDefaultContentEncoding("UTF-8"));
    // Not a file of the page: answered here, so it never reaches the API's credential step (a 401
    // would say there is something behind a token).
    ui.route().handler(rc -> ApiResponses.message(rc, 404, "Cannot " + rc.request().method().name() + " "
        + HtmlPages.escape(rc.request().path())));
    router.route(PATH + "*").method(HttpMethod.GET).method(HttpMethod.HEAD).subRouter(ui);
  }

  private static void redirect(RoutingContext rc, int status) {
    rc.response().setStatusCode(status).putHeader(HttpHeaders.LOCATION, PATH)
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").end();
  }

  private static void headers(RoutingContext rc) {
    rc.response().headers()
        .set("Content-Security-Policy", CSP)
        .set("X-Content-Type-Options", "nosniff")
        .set("Referrer-Policy", "no-referrer")
        .set("X-Frame-Options", "DENY");
    // StaticHandler writes its own long-lived Cache-Control; the dashboard's files change with the jar.
    rc.addHeadersEndHandler(v -> rc.response().headers().set(HttpHeaders.CACHE_CONTROL, "no-cache"));
    rc.next();
  }
}
