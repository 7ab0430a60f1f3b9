package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import org.apache.commons.codec.DecoderException;
import org.apache.commons.codec.binary.Hex;

/** How the value after {@code {SCHEME}} is written, as in Dovecot's password-scheme.c. */
enum HashEncoding {
  /** The value is used as it stands (PLAIN, the crypt family, Argon2, PBKDF2). */
  NONE,
  BASE64,
  HEX;

  /** The encoding named by a {@code .B64}, {@code .BASE64} or {@code .HEX} suffix, or null. */
  static HashEncoding bySuffix(String suffix) {
    switch (suffix.toUpperCase(Locale.ROOT)) {
      case "B64":
      case "BASE64":
        return BASE64;
      case "HEX":
        return HEX;
      default:
        return null;
    }
  }

  /** The raw bytes, or null if the value is not valid in this encoding. */
  byte[] decode(String value) {
    switch (this) {
      case NONE:
        return value.getBytes(StandardCharsets.UTF_8);
      case HEX:
        try {
          return Hex.decodeHex(value);
        } catch (DecoderException e) {
          return null;
        }
      case BASE64:
        try {
          return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
          return null;
        }
      default:
        throw new AssertionError(this);
    }
  }

  /**
   * Decodes a fixed-length digest written without an encoding suffix. Dovecot guesses: a value
   * exactly twice the digest length is hex, anything else base64, and a would-be hex value that
   * does not decode gets a second chance as base64 because some lengths collide.
   */
  static byte[] decodeGuessing(String value, int rawLength) {
    if (value.length() == rawLength * 2) {
      byte[] hex = HEX.decode(value);
      if (hex != null) {
        return hex;
      }
    }
    return BASE64.decode(value);
  }

  /** For messages: "base64", "hex" or "text". */
  String label() {
    switch (this) {
      case BASE64:
        return "base64";
      case HEX:
        return "hex";
      default:
        return "text";
    }
  }
}
