package dev.porthole.relay;

/** The HTML pages the edge answers with when it cannot reach a tunnel (portr-compat §8). */
final class ErrorPages {
  private ErrorPages() {
  }

  static String unregisteredSubdomain(String subdomain) {
    String sub = escape(subdomain.isEmpty() ? "<subdomain>" : subdomain);
    return page("Unregistered Subdomain",
        "<p>No tunnel is registered for <code>" + sub + "</code> right now.</p>"
            + "<p>Start one with <code>portr http 8000 -s " + sub + "</code>, or through the porthole app-server "
            + "with <code>POST /api/v1/tunnels</code> and <code>\"subdomain\": \"" + sub + "\"</code>.</p>");
  }

  static String connectionLost(String subdomain) {
    return page("Connection Lost",
        "<p>The tunnel for <code>" + escape(subdomain) + "</code> is registered, but the relay could not reach "
            + "its client. It may be reconnecting; try again in a few seconds.</p>");
  }

  private static String page(String heading, String body) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        + "<title>Connection Lost</title>\n"
        + "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}"
        + "code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}h1{font-size:1.5rem}</style>\n"
        + "</head>\n<body>\n<h1>" + heading + "</h1>\n" + body + "\n<p><small>porthole relay</small></p>\n"
        + "</body>\n</html>\n";
  }

  static String escape(String s) {
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&#34;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
