package io.postern.sasl;

import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * A server-side SASL exchange for one authentication attempt; one instance per attempt, so
 * nothing of a cancelled or failed exchange survives into the next (nginx's CVE-2026-27651 was
 * stale state between attempts).
 */
public interface SaslMechanism {

  /** Starts the exchange; {@code initialResponse} is base64 (empty for "=") or null if absent. */
  SaslStep start(byte[] initialResponse);

  /** Continues with the client's base64 line ({@code *} cancellation is handled by the caller). */
  SaslStep next(byte[] response);

  /** The mechanisms Postern offers clients, in the order it lists them. */
  List<String> NAMES = List.of("PLAIN", "LOGIN");

  /** PLAIN or LOGIN, or null for a mechanism Postern does not offer. */
  static SaslMechanism named(String name) {
    // Names are ASCII: Unicode case mapping would take "pla\u0131n" (dotless i) for PLAIN.
    // A loop, not name.chars(): this runs on every AUTHENTICATE (a stream costs ~100 B each).
    for (int i = 0; i < name.length(); i++) {
      if (name.charAt(i) >= 0x80) {
        return null;
      }
    }
    return switch (name.toUpperCase(Locale.ROOT)) {
      case "PLAIN" -> new SaslPlain();
      case "LOGIN" -> new SaslLogin();
      // Offered only where the session has a verified certificate that maps to a user.
      case "EXTERNAL" -> new SaslExternal();
      default -> null;
    };
  }

  /** Strict base64: anything outside the alphabet is an error (RFC 9051 asks for BAD). */
  static byte[] decode(byte[] base64) {
    try {
      return Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
