package dev.porthole.edge;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Portr's basic-auth gate (portr-protocol §4.3): the request passes iff it carries {@code
 * Authorization: Basic <base64 of user:password>} whose SHA-256 equals that of the configured
 * value, compared in constant time. A configured value without a colon never matches.
 */
final class BasicAuthGate {
  private final byte[] expected;

  /** @param credential the trimmed {@code user:password}, or empty for no gate */
  BasicAuthGate(String credential) {
    this.expected = credential.isEmpty() ? null : sha256(credential.getBytes(StandardCharsets.UTF_8));
  }

  boolean enabled() {
    return expected != null;
  }

  boolean allows(String authorization) {
    if (expected == null) {
      return true;
    }
    if (authorization == null || authorization.length() < 6
        || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return false;
    }
    String encoded = authorization.substring(6);
    if (encoded.length() % 4 != 0) {
      // Standard padded base64 only, as Go's StdEncoding decodes it.
      return false;
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(encoded);
    } catch (IllegalArgumentException e) {
      return false;
    }
    boolean hasColon = false;
    for (byte b : decoded) {
      if (b == ':') {
        hasColon = true;
        break;
      }
    }
    return hasColon && MessageDigest.isEqual(expected, sha256(decoded));
  }

  private static byte[] sha256(byte[] in) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(in);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
