package io.postern.config;

import java.util.Locale;

/** How a connection is secured: on a listener towards clients, or towards a backend. */
public enum TlsMode {
  /** Plaintext only. */
  NONE,
  /** Plaintext greeting, then STARTTLS (IMAP) or STLS (POP3). */
  STARTTLS,
  /** TLS from the first byte (993/995). */
  IMPLICIT;

  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The mode named {@code id} (any case), or null. */
  public static TlsMode parse(String id) {
    for (TlsMode mode : values()) {
      if (mode.id().equalsIgnoreCase(id)) {
        return mode;
      }
    }
    return null;
  }
}
