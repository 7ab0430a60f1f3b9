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

  /**
   * Starts the exchange; {@code initialResponse} is base64 (empty for "=") or null if absent.
   * Here for the mechanisms whose one message may come as the initial response or after an
   * empty challenge (PLAIN, EXTERNAL, XOAUTH2, OAUTHBEARER).
   */
  default SaslStep start(byte[] initialResponse) {
    return initialResponse == null ? new SaslStep.Challenge("") : next(initialResponse);
  }

  /** Continues with the client's base64 line ({@code *} cancellation is handled by the caller). */
  SaslStep next(byte[] response);

  /**
   * How a refusal of the credentials is told, for mechanisms that answer it with a challenge
   * first; null (the default) where the command simply fails.
   */
  default SaslStep.Refusal refusal() {
    return null;
  }

  /** The mechanisms Postern offers clients, in the order it lists them. */
  List<String> NAMES = List.of("PLAIN", "LOGIN");

  /**
   * The bearer-token mechanisms, offered after TLS where the auth source verifies tokens.
   */
  List<String> TOKEN_NAMES = List.of(SaslXoauth2.NAME, SaslOAuthBearer.NAME);

  /** Longest bearer token taken (JWTs are usually 1 to 4 KB); a longer one is refused. */
  int MAX_TOKEN_BYTES = 8 * 1024;

  /** True for XOAUTH2 and OAUTHBEARER (any case): the secret is a bearer token. */
  static boolean carriesToken(String name) {
    // equalsIgnoreCase folds char by char, and these names hold no letter that a non-ASCII
    // character (dotless i, long s, Kelvin sign) folds to.
    return name.equalsIgnoreCase(SaslXoauth2.NAME) || name.equalsIgnoreCase(SaslOAuthBearer.NAME);
  }

  /** PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER, or null for a mechanism Postern does not offer. */
  static SaslMechanism named(String name) {
    return named(name, TokenDiscovery.NONE);
  }

  /** As {@link #named(String)}; {@code discovery} goes into OAUTHBEARER's error. */
  static SaslMechanism named(String name, TokenDiscovery discovery) {
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
      case SaslXoauth2.NAME -> new SaslXoauth2();
      case SaslOAuthBearer.NAME -> new SaslOAuthBearer(discovery);
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
