package dev.porthole.httpkit;

/** The small HTML pages porthole answers with when it, not the tunnelled service, has to speak. */
public final class HtmlPages {
  private HtmlPages() {
  }

  /** A page titled "Connection Lost" with a heading and an HTML body fragment. */
  public static String page(String heading, String bodyHtml, String footer) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        + "<title>Connection Lost</title>\n"
        + "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}"
        + "code{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}h1{font-size:1.5rem}</style>\n"
        + "</head>\n<body>\n<h1>" + heading + "</h1>\n" + bodyHtml + "\n<p><small>" + footer + "</small></p>\n"
        + "</body>\n</html>\n";
  }

  public static String escape(String s) {
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
