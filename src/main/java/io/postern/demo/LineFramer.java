package io.postern.demo;

import io.vertx.core.buffer.Buffer;

/**
 * Splits a byte stream into CRLF-terminated lines and, on request, fixed-size literals.
 *
 * <p>Input is kept only until it forms a record: at most one partial line (bounded by {@code
 * maxLine}) or one announced literal (bounded by the caller before it asks for it). While held, the
 * framer stops delivering and the caller is expected to pause the socket, so unread input cannot
 * pile up either.
 */
final class LineFramer {

  /** Receives records in order. */
  interface Sink {
    /** A line without its CRLF (a bare LF is accepted too). */
    void line(byte[] line);

    void literal(byte[] data);

    /** A line grew past the limit; the framer has stopped and drops all further input. */
    void lineTooLong();
  }

  private final int maxLine;
  private final Sink sink;
  private Buffer input = Buffer.buffer();
  private int pos;
  private int scanned;
  private int literalSize = -1;
  private boolean held;
  private boolean stopped;
  private boolean delivering;

  LineFramer(int maxLine, Sink sink) {
    this.maxLine = maxLine;
    this.sink = sink;
  }

  void feed(Buffer data) {
    if (stopped) {
      return;
    }
    compact();
    input.appendBuffer(data);
    deliver();
  }

  /** The next {@code size} bytes form a literal rather than lines. */
  void expectLiteral(int size) {
    literalSize = size;
  }

  void hold() {
    held = true;
  }

  void release() {
    held = false;
    deliver();
  }

  boolean held() {
    return held;
  }

  void stop() {
    stopped = true;
    input = Buffer.buffer();
    pos = 0;
    scanned = 0;
  }

  private void deliver() {
    // A sink that releases the framer from inside a callback must not start a second loop.
    if (delivering) {
      return;
    }
    delivering = true;
    try {
      while (!held && !stopped && nextRecord()) {
        // nextRecord delivers one record per call
      }
    } finally {
      delivering = false;
    }
  }

  private boolean nextRecord() {
    int available = input.length() - pos;
    if (literalSize >= 0) {
      if (available < literalSize) {
        return false;
      }
      byte[] data = input.getBytes(pos, pos + literalSize);
      pos += literalSize;
      scanned = pos;
      literalSize = -1;
      sink.literal(data);
      return true;
    }
    int lf = indexOfLf(Math.max(pos, scanned));
    if (lf < 0) {
      scanned = input.length();
      // maxLine content plus a CR that may still be waiting for its LF.
      if (available > maxLine + 1) {
        overflow();
      }
      return false;
    }
    int end = lf > pos && input.getByte(lf - 1) == '\r' ? lf - 1 : lf;
    if (end - pos > maxLine) {
      overflow();
      return false;
    }
    byte[] line = input.getBytes(pos, end);
    pos = lf + 1;
    scanned = pos;
    sink.line(line);
    return true;
  }

  private void overflow() {
    stop();
    sink.lineTooLong();
  }

  private int indexOfLf(int from) {
    for (int i = from; i < input.length(); i++) {
      if (input.getByte(i) == '\n') {
        return i;
      }
    }
    return -1;
  }

  private void compact() {
    if (pos > 0) {
      input = input.getBuffer(pos, input.length());
      scanned -= pos;
      pos = 0;
    }
  }
}
