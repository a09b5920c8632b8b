package dev.porthole.config;

import io.vertx.core.json.JsonObject;
import java.util.Locale;

/**
 * {@code ssh.*}: the app-server's SSH client (JSch), the same for every tunnel.
 *
 * @param virtualThreads whether JSch's session and channel threads are virtual threads
 */
public record SshClientConfig(VirtualThreads virtualThreads) {
  /** {@code ssh.virtual_threads}. */
  public enum VirtualThreads {
    /**
     * Virtual threads on Java 24 and later, platform threads before: JSch writes to the socket
     * inside {@code synchronized}, which pins a virtual thread to its carrier on Java 21–23
     * (JEP 491 lifted that in 24).
     */
    AUTO,
    /** Virtual threads on any Java 21 or later; platform threads on Java 17–20. */
    ON,
    /** Platform threads, one per session and one per forwarded connection. */
    OFF
  }

  public static SshClientConfig from(JsonObject root) {
    JsonObject section = root.getJsonObject("ssh", ConfigDefaults.tree().getJsonObject("ssh"));
    Reader in = new Reader("ssh", section);
    // YAML 1.1 reads a bare on/off (and yes/no, true/false) as a boolean.
    if (section.getValue("virtual_threads") instanceof Boolean b) {
      return new SshClientConfig(b ? VirtualThreads.ON : VirtualThreads.OFF);
    }
    String value = in.string("virtual_threads", false).strip().toUpperCase(Locale.ROOT);
    for (VirtualThreads v : VirtualThreads.values()) {
      if (v.name().equals(value)) {
        return new SshClientConfig(v);
      }
    }
    throw new ConfigException(in.key("virtual_threads"), "must be auto, on or off, got \""
        + in.string("virtual_threads", false) + "\"");
  }
}
