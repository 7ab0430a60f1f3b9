package io.postern.auth;

/**
 * One Dovecot password scheme. Implementations see the stored value already decoded from its
 * base64/hex form, and never log, throw or return any part of it or of the password.
 */
interface HashScheme {

  /** Canonical upper-case name, used in problem messages. */
  String name();

  /** How the stored value is written when the scheme name carries no {@code .HEX}/{@code .B64}. */
  HashEncoding defaultEncoding();

  /** Length of the decoded value when it is fixed (plain digests), otherwise 0. */
  default int rawLength() {
    return 0;
  }

  /** A short reason why {@code stored} can never verify, or null if it is usable. */
  String problem(byte[] stored);

  /**
   * What one check of {@code stored} costs: a label naming the scheme and its cost parameters
   * (never the salt or the hash), and the memory it takes. Only called when {@link #problem}
   * returned null.
   */
  default HashCost cost(byte[] stored) {
    return new HashCost(name(), 0);
  }

  /** Whether {@code password} matches; only called when {@link #problem} returned null. */
  boolean matches(byte[] stored, byte[] password);
}
