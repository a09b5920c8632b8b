package dev.porthole.config;

import java.security.SecureRandom;
import java.util.Locale;
import java.util.regex.Pattern;

/** Portr's subdomain rules (portr-protocol §1.5). */
public final class Subdomains {
  private static final Pattern VALID = Pattern.compile("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$");
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz";
  private static final SecureRandom RANDOM = new SecureRandom();

  private Subdomains() {
  }

  /** Trims surrounding whitespace, then lower-cases. */
  public static String normalize(String subdomain) {
    return subdomain == null ? "" : subdomain.strip().toLowerCase(Locale.ROOT);
  }

  /** 1–63 lowercase letters and digits, hyphens only inside. Expects a normalised value. */
  public static boolean isValid(String normalized) {
    return normalized != null && VALID.matcher(normalized).matches();
  }

  /** Six letters drawn uniformly from a–z, as Portr generates them. */
  public static String generate() {
    char[] out = new char[6];
    for (int i = 0; i < out.length; i++) {
      out[i] = ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length()));
    }
    return new String(out);
  }
}
