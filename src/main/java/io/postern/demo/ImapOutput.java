package io.postern.demo;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;

/**
 * Builds IMAP response bytes, choosing a quoted string or a literal per value so that any byte
 * sequence is sent correctly and literal sizes are exact.
 */
final class ImapOutput {

  /** Longer values go as literals; quoted strings this long are legal but hard to read. */
  private static final int MAX_QUOTED = 256;

  private final Buffer buffer = Buffer.buffer();

  ImapOutput text(String ascii) {
    buffer.appendBytes(ascii.getBytes(StandardCharsets.UTF_8));
    return this;
  }

  ImapOutput crlf() {
    return text("\r\n");
  }

  ImapOutput number(long n) {
    return text(Long.toString(n));
  }

  ImapOutput string(String value) {
    return string(value.getBytes(StandardCharsets.UTF_8));
  }

  /** A string, or NIL for null. */
  ImapOutput nstring(String value) {
    return value == null ? text("NIL") : string(value);
  }

  ImapOutput string(byte[] value) {
    if (!quotable(value)) {
      return literal(value);
    }
    buffer.appendByte((byte) '"');
    for (byte b : value) {
      if (b == '"' || b == '\\') {
        buffer.appendByte((byte) '\\');
      }
      buffer.appendByte(b);
    }
    buffer.appendByte((byte) '"');
    return this;
  }

  ImapOutput literal(byte[] value) {
    text("{" + value.length + "}\r\n");
    buffer.appendBytes(value);
    return this;
  }

  Buffer buffer() {
    return buffer;
  }

  private static boolean quotable(byte[] value) {
    if (value.length > MAX_QUOTED) {
      return false;
    }
    for (byte b : value) {
      // Negative bytes are 8-bit: RFC 3501 quoted strings are 7-bit only.
      if (b <= 0 || b == '\r' || b == '\n') {
        return false;
      }
    }
    return true;
  }
}
