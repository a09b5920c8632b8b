package dev.porthole.relay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Files the relay keeps between runs: the generated secret key used when none is configured.
 * Blocking file I/O: called from the command's thread before anything is deployed.
 */
public final class RelayKeys {
  private RelayKeys() {
  }

  /** The secret key stored at {@code path}, created (0600, in a 0700 directory) when missing. */
  public static String loadOrCreateSecret(Path path) throws IOException {
    ensurePrivateDir(path.toAbsolutePath().getParent());
    if (!Files.exists(path)) {
      byte[] raw = new byte[24];
      new SecureRandom().nextBytes(raw);
      String secret = "ph_" + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
      try {
        Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(path, secret + "\n", StandardCharsets.UTF_8);
      } catch (FileAlreadyExistsException raced) {
        // Another relay created it first: use theirs.
      } catch (UnsupportedOperationException notPosix) {
        Files.writeString(path, secret + "\n", StandardCharsets.UTF_8);
      }
    }
    String secret = Files.readString(path, StandardCharsets.UTF_8).strip();
    if (secret.length() < 16) {
      throw new IOException(path + " does not hold a secret key (at least 16 characters); delete it to generate a new one");
    }
    return secret;
  }

  /** Creates {@code dir} (and parents) and makes it 0700 where the file system has POSIX modes. */
  public static void ensurePrivateDir(Path dir) throws IOException {
    if (dir == null) {
      return;
    }
    Files.createDirectories(dir);
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException notPosix) {
      // Not a POSIX file system: nothing to tighten.
    }
  }

}
