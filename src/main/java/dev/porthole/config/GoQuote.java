package dev.porthole.config;

/** Go's {@code %q}: a double-quoted string with Go escapes, as Portr's messages quote values. */
public final class GoQuote {
  private GoQuote() {
  }

  public static String q(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    s.codePoints().forEach(cp -> {
      switch (cp) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case 0x07 -> b.append("\\a");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        case 0x0B -> b.append("\\v");
        default -> {
          if (cp < 0x20 || cp == 0x7F) {
            b.append(String.format("\\x%02x", cp));
          } else if (!Character.isDefined(cp) || Character.getType(cp) == Character.FORMAT
              || Character.getType(cp) == Character.UNASSIGNED || Character.isISOControl(cp)) {
            b.append(cp <= 0xFFFF ? String.format("\\u%04x", cp) : String.format("\\U%08x", cp));
          } else {
            b.appendCodePoint(cp);
          }
        }
      }
    });
    return b.append('"').toString();
  }
}
