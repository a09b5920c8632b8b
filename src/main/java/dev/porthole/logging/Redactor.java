package dev.porthole.logging;

import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Removes secrets from text that is about to be logged: every registered secret (secret keys,
 * tokens, credentials) wherever it appears, and the secret half of Portr SSH user names
 * ({@code <26-char connection id>:<secret>}), which libraries print inside session descriptions.
 */
public final class Redactor {
  public static final String MASK = "[redacted]";
  private static final Pattern SSH_USER = Pattern.compile("\\b([0-9A-HJKMNP-TV-Z]{26}):[^\\s@\\],;'\"]+");
  private static final Set<String> SECRETS = new CopyOnWriteArraySet<>();

  private Redactor() {
  }

  /** Registers a secret to mask in every later log line. Blank and very short values are ignored. */
  public static void register(String secret) {
    if (secret != null && secret.strip().length() >= 4) {
      SECRETS.add(secret.strip());
    }
  }

  public static String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = text;
    for (String secret : SECRETS) {
      if (out.contains(secret)) {
        out = out.replace(secret, MASK);
      }
    }
    if (out.indexOf(':') >= 0) {
      Matcher m = SSH_USER.matcher(out);
      if (m.find()) {
        out = m.replaceAll("$1:" + Matcher.quoteReplacement(MASK));
      }
    }
    return out;
  }
}
