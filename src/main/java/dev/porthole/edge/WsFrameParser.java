package dev.porthole.edge;

import dev.porthole.bus.Capture;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

/**
 * Finds WebSocket frames (RFC 6455 §5.2) in one direction's byte stream, only to record them: the
 * bytes themselves are relayed elsewhere, unchanged. Incremental (a frame may span any number of
 * chunks, a chunk may hold many frames); the payload copy is unmasked and holds at most {@link
 * Capture#MAX_BODY} bytes, the length is the frame's own. A length with its top bit set is not
 * WebSocket: the parser stops recording that stream.
 */
final class WsFrameParser implements Handler<Buffer> {
  /** Receives each complete frame. */
  interface Sink {
    void frame(int opcode, boolean fin, byte[] payload, long payloadLength);
  }

  private final Sink sink;
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
  private byte[] payload;

  WsFrameParser(Sink sink) {
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
        copy(chunk, i, take);
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
    payload = new byte[(int) Math.min(length, Capture.MAX_BODY)];
    offset = 0;
    inPayload = true;
    if (length == 0) {
      emit();
    }
  }

  private void copy(Buffer chunk, int from, int take) {
    if (offset >= payload.length) {
      return;
    }
    int keep = (int) Math.min(take, payload.length - offset);
    int at = (int) offset;
    chunk.getBytes(from, from + keep, payload, at);
    if (masked) {
      for (int k = 0; k < keep; k++) {
        payload[at + k] ^= mask[(at + k) & 3];
      }
    }
  }

  private void emit() {
    byte[] p = payload;
    payload = null;
    inPayload = false;
    headSize = 0;
    headNeed = 2;
    sink.frame(opcode, fin, p, length);
  }
}
