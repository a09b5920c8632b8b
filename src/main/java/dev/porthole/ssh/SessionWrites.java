package dev.porthole.ssh;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What JSch writes to a session's socket, with the writes of one round of a thread gathered into
 * one system call.
 *
 * <p>JSch writes and flushes each packet on its own: one {@code write} per packet. A direct edge's
 * thread sends the answers of every connection that was ready in one wake-up of its selector, often
 * several (about 4.6 per wake-up in bench P3), and OpenSSH sends such a round in one write. Inside
 * {@link #batched}, a flush by the calling thread only marks the stream; the round's end writes each
 * marked stream once. Anywhere else (JSch's session thread, channel threads, key exchange) a flush
 * writes at once, and takes along whatever a round has gathered, in order: JSch encodes and writes
 * a session's packets under one lock, so the stream holds them in sequence-number order.
 *
 * <p>Held bytes wait for the end of their round at most. The edge's thread waits in its selector
 * only between rounds; within one it may wait on a full socket (which is a write), on a key
 * exchange (which the session thread's own flushes carry through, held bytes first), or on a
 * WebSocket's local service that does not read (the tunnel's answers wait for the edge's thread
 * then anyway).
 */
public final class SessionWrites {
  private static final Logger log = LoggerFactory.getLogger(SessionWrites.class);
  /** Gathered bytes past this are written at once; a larger packet goes straight to the socket. */
  static final int GATHER_LIMIT = 32 * 1024;
  /** The streams the current thread's round holds bytes for; null outside a round. */
  private static final ThreadLocal<List<Output>> ROUND = new ThreadLocal<>();

  private SessionWrites() {
  }

  /** Runs {@code round}, the flushes of this thread held until it returns or throws. Not reentrant. */
  public static void batched(Runnable round) {
    List<Output> held = new ArrayList<>(4);
    ROUND.set(held);
    try {
      round.run();
    } finally {
      ROUND.remove();
      for (Output o : held) {
        o.endOfRound();
      }
    }
  }

  /** The session socket's stream. */
  static OutputStream of(Socket socket) throws IOException {
    return new Output(socket, socket.getOutputStream());
  }

  static final class Output extends OutputStream {
    private final Socket socket;
    private final OutputStream out;
    /** Bytes written but not yet sent: made at the first round, kept with the session. */
    private byte[] buf;
    private int count;
    /** Whether the current round has this stream in its list. */
    private boolean held;
    private IOException failed;

    Output(Socket socket, OutputStream out) {
      this.socket = socket;
      this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
      check();
      if (count == 0 && ROUND.get() == null) {
        send(b, off, len); // nothing held and no round: as before, no copy
        return;
      }
      if (count + len > GATHER_LIMIT) {
        drain();
        if (len >= GATHER_LIMIT) {
          send(b, off, len);
          return;
        }
      }
      if (buf == null || buf.length < count + len) {
        byte[] bigger = new byte[Math.max(GATHER_LIMIT, count + len)];
        if (count > 0) {
          System.arraycopy(buf, 0, bigger, 0, count);
        }
        buf = bigger;
      }
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }

    @Override
    public void flush() throws IOException {
      List<Output> round = ROUND.get();
      synchronized (this) {
        check();
        if (round == null) {
          drain();
          return;
        }
        if (held || count == 0) {
          return;
        }
        held = true;
      }
      round.add(this);
    }

    /** The round that held this ends: what it gathered is sent (unless another thread has). */
    void endOfRound() {
      synchronized (this) {
        held = false;
        if (failed != null) {
          return;
        }
        try {
          drain();
          return;
        } catch (IOException e) {
          log.debug("session socket {}: a gathered write failed: {}", socket.getRemoteSocketAddress(), e.toString());
        }
      }
      // The session is broken: its reader fails on the closed socket, and the tunnel reconnects.
      try {
        socket.close();
      } catch (IOException ignored) {
        // Closing.
      }
    }

    @Override
    public void close() throws IOException {
      out.close();
    }

    private void drain() throws IOException {
      if (count > 0) {
        int n = count;
        count = 0;
        send(buf, 0, n);
      }
    }

    private void send(byte[] b, int off, int len) throws IOException {
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        failed = e;
        throw e;
      }
    }

    private void check() throws IOException {
      if (failed != null) {
        throw new IOException("the session's socket failed: " + failed.getMessage(), failed);
      }
    }
  }
}
