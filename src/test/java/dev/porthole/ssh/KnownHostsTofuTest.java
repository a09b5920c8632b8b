package dev.porthole.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import com.jcraft.jsch.HostKeyRepository;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownHostsTofuTest {
  private static final String HOST = "portr.example.com";

  @TempDir
  Path tmp;

  private Path dir;
  private Path file;

  @BeforeEach
  void paths() {
    dir = tmp.resolve("dot-portr");
    file = dir.resolve("known_hosts");
  }

  /** A wire-format ssh-ed25519 public key: string "ssh-ed25519", string of 32 key bytes. */
  private static byte[] ed25519Key(int seed) {
    byte[] type = "ssh-ed25519".getBytes(StandardCharsets.US_ASCII);
    byte[] point = new byte[32];
    for (int i = 0; i < point.length; i++) {
      point[i] = (byte) (seed * 31 + i);
    }
    ByteBuffer b = ByteBuffer.allocate(4 + type.length + 4 + point.length);
    b.putInt(type.length).put(type).putInt(point.length).put(point);
    return b.array();
  }

  private static String b64(byte[] key) {
    return Base64.getEncoder().encodeToString(key);
  }

  private static String sha256Fingerprint(byte[] key) throws Exception {
    return "SHA256:" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(key));
  }

  private void writeKnownHosts(String content) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(file, content);
  }

  private KnownHostsTofu tofu() {
    return new KnownHostsTofu(file, HOST);
  }

  @Test
  @DisplayName("§3.2 first contact: accepted, directory 0700 and file 0600 created, 'host keytype base64' appended")
  void firstUseSavesKey() throws IOException {
    byte[] key = ed25519Key(1);
    assertThat(Files.exists(dir)).isFalse();
    KnownHostsTofu tofu = tofu();
    assertThat(tofu.check("[" + HOST + "]:2222", key)).isEqualTo(HostKeyRepository.OK);
    assertThat(Files.getPosixFilePermissions(dir)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.readString(file)).isEqualTo(HOST + " ssh-ed25519 " + b64(key) + "\n");
    assertThat(tofu.mismatchMessage()).isNull();
  }

  @Test
  @DisplayName("§3.2 the same key again is accepted and not saved twice")
  void sameKeyAccepted() throws IOException {
    byte[] key = ed25519Key(1);
    assertThat(tofu().check(HOST, key)).isEqualTo(HostKeyRepository.OK);
    KnownHostsTofu again = new KnownHostsTofu(file, HOST);
    assertThat(again.check(HOST, key)).isEqualTo(HostKeyRepository.OK);
    assertThat(Files.readAllLines(file)).hasSize(1);
    assertThat(again.mismatchMessage()).isNull();
  }

  @Test
  @DisplayName("§3.2 a different key is rejected with Portr's five-line message")
  void changedKeyRejected() throws Exception {
    byte[] old = ed25519Key(1);
    byte[] fresh = ed25519Key(2);
    assertThat(tofu().check(HOST, old)).isEqualTo(HostKeyRepository.OK);
    KnownHostsTofu tofu = tofu();
    assertThat(tofu.check(HOST, fresh)).isEqualTo(HostKeyRepository.CHANGED);
    assertThat(tofu.mismatchMessage()).isEqualTo(String.join("\n",
        "host key verification failed for " + HOST,
        "The server's host key has changed!",
        "New key fingerprint: " + sha256Fingerprint(fresh),
        "This could indicate a man-in-the-middle attack.",
        "If you trust this key, remove the old entry from " + file + " and try again"));
    assertThat(Files.readAllLines(file)).containsExactly(HOST + " ssh-ed25519 " + b64(old));
  }

  @Test
  @DisplayName("§3.2 blank lines, comments, short lines and undecodable base64 are skipped")
  void unusableLinesSkipped() throws IOException {
    byte[] other = ed25519Key(9);
    byte[] key = ed25519Key(1);
    writeKnownHosts("\n   \n# " + HOST + " ssh-ed25519 " + b64(other) + "\n"
        + "#" + HOST + " ssh-ed25519 " + b64(other) + "\n"
        + HOST + "\n"
        + HOST + " ssh-ed25519 !!!not-base64!!!\n");
    assertThat(tofu().check(HOST, key)).isEqualTo(HostKeyRepository.OK);
    assertThat(Files.readString(file)).endsWith("\n" + HOST + " ssh-ed25519 " + b64(key) + "\n");
  }

  @Test
  @DisplayName("§11.30 a two-field line for the same host is skipped, not a crash and not a mismatch")
  void twoFieldLineSkipped() throws IOException {
    byte[] key = ed25519Key(1);
    writeKnownHosts(HOST + " ssh-ed25519\n");
    KnownHostsTofu tofu = tofu();
    assertThat(tofu.check(HOST, key)).isEqualTo(HostKeyRepository.OK);
    assertThat(tofu.mismatchMessage()).isNull();
    assertThat(Files.readAllLines(file)).containsExactly(HOST + " ssh-ed25519", HOST + " ssh-ed25519 " + b64(key));
  }

  @Test
  @DisplayName("§3.2 a base64 value that is not an SSH public key is unparseable and skipped")
  void unparseableKeySkipped() throws IOException {
    byte[] key = ed25519Key(1);
    String notAKey = Base64.getEncoder().encodeToString("hello".getBytes(StandardCharsets.US_ASCII));
    writeKnownHosts(HOST + " ssh-ed25519 " + notAKey + "\n");
    KnownHostsTofu tofu = tofu();
    assertThat(tofu.check(HOST, key)).isEqualTo(HostKeyRepository.OK);
    assertThat(tofu.mismatchMessage()).isNull();
  }

  @Test
  @DisplayName("§3.2 only the first usable line for the host decides")
  void firstUsableLineDecides() throws IOException {
    byte[] first = ed25519Key(1);
    byte[] second = ed25519Key(2);
    writeKnownHosts(HOST + " ssh-ed25519 %%%\n" + HOST + " ssh-ed25519 " + b64(first) + "\n"
        + HOST + " ssh-ed25519 " + b64(second) + "\n");
    assertThat(tofu().check(HOST, first)).isEqualTo(HostKeyRepository.OK);
    assertThat(tofu().check(HOST, second)).isEqualTo(HostKeyRepository.CHANGED);
    assertThat(Files.readAllLines(file)).hasSize(3);
  }

  @Test
  @DisplayName("§3.2 lines for other hosts are ignored")
  void otherHostsIgnored() throws IOException {
    byte[] theirs = ed25519Key(5);
    byte[] ours = ed25519Key(1);
    writeKnownHosts("other.example.com ssh-ed25519 " + b64(theirs) + "\n"
        + HOST + ".evil ssh-ed25519 " + b64(theirs) + "\n");
    assertThat(tofu().check(HOST, ours)).isEqualTo(HostKeyRepository.OK);
    assertThat(Files.readAllLines(file)).last().isEqualTo(HOST + " ssh-ed25519 " + b64(ours));
    assertThat(new KnownHostsTofu(file, "other.example.com").check("other.example.com", ours))
        .isEqualTo(HostKeyRepository.CHANGED);
  }

  @Test
  @DisplayName("§3.2 fingerprint: SHA256: + standard padded base64 of sha256(wire key)")
  void fingerprintFormat() throws Exception {
    byte[] key = ed25519Key(1);
    String fp = KnownHostsTofu.fingerprint(key);
    assertThat(fp).isEqualTo(sha256Fingerprint(key)).startsWith("SHA256:").matches("SHA256:[A-Za-z0-9+/]{43}=");
  }

  @Test
  @DisplayName("keyType reads the wire-format type; garbage is 'unknown'")
  void keyType() {
    assertThat(KnownHostsTofu.keyType(ed25519Key(1))).isEqualTo("ssh-ed25519");
    ByteArrayOutputStream rsa = new ByteArrayOutputStream();
    rsa.writeBytes(new byte[] {0, 0, 0, 7});
    rsa.writeBytes("ssh-rsa".getBytes(StandardCharsets.US_ASCII));
    rsa.writeBytes(new byte[] {0, 0, 0, 1, 3});
    assertThat(KnownHostsTofu.keyType(rsa.toByteArray())).isEqualTo("ssh-rsa");
    assertThat(KnownHostsTofu.keyType(new byte[0])).isEqualTo("unknown");
    assertThat(KnownHostsTofu.keyType(new byte[] {1, 2})).isEqualTo("unknown");
    assertThat(KnownHostsTofu.keyType(new byte[] {0, 0, 0, 50, 'a'})).isEqualTo("unknown");
    assertThat(KnownHostsTofu.keyType(new byte[] {0, 0, 0, 0})).isEqualTo("unknown");
    assertThat(KnownHostsTofu.keyType(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'a'}))
        .isEqualTo("unknown");
  }
}
