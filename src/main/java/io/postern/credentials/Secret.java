package io.postern.credentials;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A password or other credential as the client sent it, in raw bytes.
 *
 * <p>It never prints its value: {@code toString()} is constant, so a secret that slips into a log
 * line, an exception message or a debugger view shows nothing. Equality is constant-time.
 */
public final class Secret {

  private final byte[] bytes;

  private Secret(byte[] bytes) {
    this.bytes = bytes;
  }

  public static Secret of(byte[] bytes) {
    return new Secret(bytes.clone());
  }

  public static Secret of(String text) {
    return new Secret(text.getBytes(StandardCharsets.UTF_8));
  }

  /** A copy of the raw bytes; callers should not keep it longer than needed. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** The bytes decoded as UTF-8 (malformed sequences become U+FFFD). */
  public String text() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  public int length() {
    return bytes.length;
  }

  public boolean isEmpty() {
    return bytes.length == 0;
  }

  /** True if any byte is NUL, CR or LF: such a value cannot be sent safely on a mail protocol line. */
  public boolean hasLineBreakOrNul() {
    for (byte b : bytes) {
      if (b == 0 || b == '\r' || b == '\n') {
        return true;
      }
    }
    return false;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Secret s && MessageDigest.isEqual(bytes, s.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Secret[****]";
  }
}
