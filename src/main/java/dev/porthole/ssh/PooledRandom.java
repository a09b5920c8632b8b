package dev.porthole.ssh;

import java.security.SecureRandom;

/**
 * JSch's source of random bytes (packet padding, the key exchange's cookie), drawn from one
 * {@link SecureRandom} a kilobyte at a time per thread and never handed out twice.
 *
 * <p>JSch's own ({@code com.jcraft.jsch.jce.Random}) asks the platform's SecureRandom for 16
 * bytes per packet: on Linux that is NativePRNG, which takes a global lock, mixes in SHA1PRNG and
 * reads {@code /dev/urandom} every 32 bytes (bench P3: about 2 µs of the JSch threads' time per
 * request). It is one instance for all sessions, and fills a buffer it shares between threads
 * without a lock.
 */
public final class PooledRandom implements com.jcraft.jsch.Random {
  static final int POOL = 1024;
  private static final SecureRandom SOURCE = new SecureRandom();
  private static final ThreadLocal<Pool> POOLS = ThreadLocal.withInitial(Pool::new);

  /** JSch makes it by name ({@code JSch.setConfig("random", …)}). */
  public PooledRandom() {
  }

  @Override
  public void fill(byte[] out, int start, int len) {
    POOLS.get().fill(out, start, len);
  }

  private static final class Pool {
    private final byte[] bytes = new byte[POOL];
    private int used = POOL;

    void fill(byte[] out, int start, int len) {
      while (len > 0) {
        if (used == POOL) {
          SOURCE.nextBytes(bytes);
          used = 0;
        }
        int n = Math.min(len, POOL - used);
        System.arraycopy(bytes, used, out, start, n);
        java.util.Arrays.fill(bytes, used, used + n, (byte) 0); // handed out once: not kept
        used += n;
        start += n;
        len -= n;
      }
    }
  }
}
