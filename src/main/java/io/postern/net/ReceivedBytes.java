package io.postern.net;

import java.util.Arrays;
import java.util.Objects;

/**
 * Bytes received from a peer and not yet consumed, for the decoders that frame its input:
 * appended as they arrive, read by offset from the first unconsumed byte, consumed from the
 * front. It never holds more than its limit, and it moves what it holds to the front of its
 * array before growing it, so a long session does not make it grow.
 */
public final class ReceivedBytes {

  private final int limit;
  private byte[] buf;
  private int start;
  private int end;

  public ReceivedBytes(int initialCapacity, int limit) {
    this.buf = new byte[initialCapacity];
    this.limit = limit;
  }

  /** Appends {@code data}; false, appending nothing, when more than the limit would be held. */
  public boolean append(byte[] data) {
    int held = size();
    if (held + data.length > limit) {
      return false;
    }
    if (end + data.length > buf.length) {
      byte[] target = held + data.length > buf.length
          ? new byte[Math.max(buf.length * 2, held + data.length)] : buf;
      System.arraycopy(buf, start, target, 0, held);
      buf = target;
      start = 0;
      end = held;
    }
    System.arraycopy(data, 0, buf, end, data.length);
    end += data.length;
    return true;
  }

  /** How many bytes are held. */
  public int size() {
    return end - start;
  }

  public byte at(int offset) {
    Objects.checkIndex(offset, size());
    return buf[start + offset];
  }

  /** The offset of the first {@code b} at or after offset {@code from}, or -1. */
  public int indexOf(byte b, int from) {
    for (int i = start + from; i < end; i++) {
      if (buf[i] == b) {
        return i - start;
      }
    }
    return -1;
  }

  /** A copy of the bytes from offset {@code from} (inclusive) to {@code to} (exclusive). */
  public byte[] copy(int from, int to) {
    Objects.checkFromToIndex(from, to, size());
    return Arrays.copyOfRange(buf, start + from, start + to);
  }

  /** Drops the first {@code n} bytes. */
  public void consume(int n) {
    Objects.checkFromIndexSize(0, n, size());
    start += n;
    if (start == end) {
      clear();
    }
  }

  /** Everything held, exactly as received; holds nothing afterwards. */
  public byte[] drain() {
    byte[] rest = copy(0, size());
    clear();
    return rest;
  }

  public void clear() {
    start = 0;
    end = 0;
  }
}
