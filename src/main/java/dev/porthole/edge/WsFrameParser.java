package dev.porthole.edge;

import dev.porthole.bus.Capture;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

/**
 * Finds WebSocket frames (RFC 6455 §5.2) in one direction's byte stream, only to record them: the
 * bytes themselves are relayed elsewhere, unchanged. Incremental (a frame may span any number of
 * chunks, a chunk may hold many frames); the payload copy is unmasked, grows as the payload
 * arrives (not from the length the peer claims) within the {@link CopyBudget} and holds at most
 * {@link Capture#MAX_BODY} bytes; the length is the frame's own. A length with its top bit set is
 * not WebSocket: the parser stops recording that stream. {@link #close} (the stream is gone) gives
 * back a frame's partial copy.
 */
final class WsFrameParser implements Handler<Buffer> {
  /** Receives each complete frame. */
  interface Sink {
    void frame(int opcode, boolean fin, byte[] payload, long payloadLength);
  }

  private final Sink sink;
  private final CopyBudget budget;
  private final byte[] head = new byte[14];
  private int headSize;
  private int headNeed = 2;
  private boolean inPayload;
  private boolean broken;
  private boolean fin;
  private int opcode;
  private boolean masked;
  private final byte[] mask = new byte[4];
  private long length;
  private long offset;
  /** The frame being read's payload copy, or null between frames. */
  private BodyCopy payload;

  WsFrameParser(CopyBudget budget, Sink sink) {
    this.budget = budget;
    this.sink = sink;
  }

  @Override
  public void handle(Buffer chunk) {
    int n = chunk.length();
    int i = 0;
    while (i < n && !broken) {
      if (!inPayload) {
        head[headSize++] = chunk.getByte(i++);
        if (headSize == 2) {
          int len7 = head[1] & 0x7F;
          headNeed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((head[1] & 0x80) != 0 ? 4 : 0);
        }
        if (headSize >= 2 && headSize == headNeed) {
          beginPayload();
        }
      } else {
        int take = (int) Math.min(length - offset, n - i);
        payload.append(chunk, i, take, masked ? mask : null);
        i += take;
        offset += take;
        if (offset == length) {
          emit();
        }
      }
    }
  }

  private void beginPayload() {
    fin = (head[0] & 0x80) != 0;
    opcode = head[0] & 0x0F;
    masked = (head[1] & 0x80) != 0;
    int len7 = head[1] & 0x7F;
    int pos = 2;
    if (len7 == 126) {
      length = ((head[2] & 0xFFL) << 8) | (head[3] & 0xFFL);
      pos = 4;
    } else if (len7 == 127) {
      long l = 0;
      for (int k = 2; k < 10; k++) {
        l = (l << 8) | (head[k] & 0xFFL);
      }
      if (l < 0) {
        broken = true;
        return;
      }
      length = l;
      pos = 10;
    } else {
      length = len7;
    }
    if (masked) {
      System.arraycopy(head, pos, mask, 0, 4);
    }
    payload = new BodyCopy(budget, (int) Math.min(length, Capture.MAX_BODY));
    offset = 0;
    inPayload = true;
    if (length == 0) {
      emit();
    }
  }

  private void emit() {
    byte[] p = payload.bytes();
    payload.release();
    payload = null;
    inPayload = false;
    headSize = 0;
    headNeed = 2;
    sink.frame(opcode, fin, p, length);
  }

  /** The stream ended: a frame cut short is dropped and its copy given back; later bytes are ignored. */
  void close() {
    broken = true;
    if (payload != null) {
      payload.release();
      payload = null;
    }
  }
}
