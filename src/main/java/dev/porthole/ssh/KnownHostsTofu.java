package dev.porthole.ssh;

import com.jcraft.jsch.HostKey;
import com.jcraft.jsch.HostKeyRepository;
import com.jcraft.jsch.UserInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trust on first use against Portr's {@code ~/.portr/known_hosts} (portr-protocol §3.2): the first
 * usable line for the host decides; no line → the key is saved and accepted; a different key →
 * rejected with Portr's message. Lines are {@code host keytype base64key}; the host is the SSH
 * address without its port.
 */
final class KnownHostsTofu implements HostKeyRepository {
  private static final Logger log = LoggerFactory.getLogger(KnownHostsTofu.class);

  private final Path file;
  private final String host;
  private volatile String mismatch;

  KnownHostsTofu(Path file, String host) {
    this.file = file;
    this.host = host;
  }

  /** The rejection text when {@link #check} answered CHANGED, else null. */
  String mismatchMessage() {
    return mismatch;
  }

  @Override
  public int check(String jschHost, byte[] key) {
    List<String> lines;
    try {
      ensureFile();
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      log.warn("known_hosts {} unreadable: {}; treating the host key as new", file, e.getMessage());
      lines = List.of();
    }
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\s+");
      // Portr reads the third field even of a two-field line for this host (and crashes); such a
      // line cannot hold a key, so it is skipped like any other unusable line.
      if (fields.length < 3 || !fields[0].equals(host)) {
        continue;
      }
      byte[] known = decodeKey(fields[2]);
      if (known == null) {
        continue;
      }
      if (Arrays.equals(known, key)) {
        return OK;
      }
      mismatch = String.join("\n",
          "host key verification failed for " + host,
          "The server's host key has changed!",
          "New key fingerprint: " + fingerprint(key),
          "This could indicate a man-in-the-middle attack.",
          "If you trust this key, remove the old entry from " + file + " and try again");
      return CHANGED;
    }
    String entry = host + " " + keyType(key) + " " + Base64.getEncoder().encodeToString(key) + "\n";
    log.info("New SSH host key for {}: {}", host, fingerprint(key));
    try {
      Files.writeString(file, entry, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      log.warn("could not save the host key of {} to {}: {}", host, file, e.getMessage());
    }
    return OK;
  }

  private void ensureFile() throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    if (!Files.exists(file)) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
  }

  /** {@code SHA256:} + standard base64 (with padding) of SHA-256 over the wire-format key. */
  static String fingerprint(byte[] key) {
    try {
      return "SHA256:" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(key));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A public key in SSH wire format from standard padded base64, or null when the text is not one:
   * a sequence of length-prefixed fields that exactly fills the bytes, the first a key type name.
   * (Portr parses the key and skips lines that do not parse.)
   */
  static byte[] decodeKey(String base64) {
    if (base64.length() % 4 != 0) {
      return null;
    }
    byte[] key;
    try {
      key = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int pos = 0;
    int fields = 0;
    while (pos < key.length) {
      if (key.length - pos < 4) {
        return null;
      }
      long len = ((key[pos] & 0xffL) << 24) | ((key[pos + 1] & 0xff) << 16) | ((key[pos + 2] & 0xff) << 8) | (key[pos + 3] & 0xff);
      if (len > key.length - pos - 4L) {
        return null;
      }
      pos += 4 + (int) len;
      fields++;
    }
    return fields >= 2 && !keyType(key).equals("unknown") && keyType(key).matches("[a-z0-9@.-]+") ? key : null;
  }

  /** The key type, the first string of the wire format. */
  static String keyType(byte[] key) {
    if (key.length < 4) {
      return "unknown";
    }
    int len = ((key[0] & 0xff) << 24) | ((key[1] & 0xff) << 16) | ((key[2] & 0xff) << 8) | (key[3] & 0xff);
    return len <= 0 || len > key.length - 4 ? "unknown" : new String(key, 4, len, StandardCharsets.US_ASCII);
  }

  @Override
  public void add(HostKey hostkey, UserInfo ui) {
    // Keys are saved by check(), in Portr's format.
  }

  @Override
  public void remove(String host, String type) {
  }

  @Override
  public void remove(String host, String type, byte[] key) {
  }

  @Override
  public String getKnownHostsRepositoryID() {
    return file.toString();
  }

  @Override
  public HostKey[] getHostKey() {
    return new HostKey[0];
  }

  @Override
  public HostKey[] getHostKey(String host, String type) {
    return new HostKey[0];
  }
}
