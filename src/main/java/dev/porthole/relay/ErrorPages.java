package dev.porthole.relay;

import dev.porthole.httpkit.HtmlPages;

/** The HTML pages the edge answers with when it cannot reach a tunnel (portr-protocol §8). */
final class ErrorPages {
  private static final String FOOTER = "porthole relay";

  private ErrorPages() {
  }

  static String unregisteredSubdomain(String subdomain) {
    String sub = HtmlPages.escape(subdomain.isEmpty() ? "<subdomain>" : subdomain);
    return HtmlPages.page("Unregistered Subdomain",
        "<p>No tunnel is registered for <code>" + sub + "</code> right now.</p>"
            + "<p>Start one with <code>portr http 8000 -s " + sub + "</code>, or through the porthole app-server "
            + "with <code>POST /api/v1/tunnels</code> and <code>\"subdomain\": \"" + sub + "\"</code>.</p>", FOOTER);
  }

  static String connectionLost(String subdomain) {
    return HtmlPages.page("Connection Lost",
        "<p>The tunnel for <code>" + HtmlPages.escape(subdomain) + "</code> is registered, but the relay could not reach "
            + "its client. It may be reconnecting; try again in a few seconds.</p>", FOOTER);
  }
}
