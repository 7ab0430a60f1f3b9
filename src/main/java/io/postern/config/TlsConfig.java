package io.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Server-side TLS: the certificates (the first is the default, the others are chosen by SNI;
 * pairs for the same names with different key types are offered together, ECDSA to clients that
 * can verify it), the protocol versions and the engine. Every {@code watchInterval} the
 * certificate and key files, the session ticket key files (and the backends' CA files) are
 * looked at again, and what changed is used for new handshakes. {@code sessionTicketKeys}: files
 * of 48 bytes, the first encrypts new tickets, all decrypt (none: the engine's own random key).
 * {@code sessionTimeout}: how long a TLS session can be resumed (the ticket lifetime).
 */
public record TlsConfig(List<CertificateFiles> certificates, List<String> protocols, Engine engine,
    Duration watchInterval, List<Path> sessionTicketKeys, Duration sessionTimeout) {

  /** BoringSSL's default session lifetime, the same as before the key existed. */
  public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofHours(2);

  public TlsConfig {
    certificates = List.copyOf(certificates);
    protocols = List.copyOf(protocols);
    sessionTicketKeys = List.copyOf(sessionTicketKeys);
  }

  /** Without ticket key files and with the default session lifetime. */
  public TlsConfig(List<CertificateFiles> certificates, List<String> protocols, Engine engine,
      Duration watchInterval) {
    this(certificates, protocols, engine, watchInterval, List.of(), DEFAULT_SESSION_TIMEOUT);
  }

  /** Which TLS implementation terminates client connections. */
  public enum Engine {
    /** OpenSSL (netty-tcnative) when it loads on this platform, else the JDK. */
    AUTO,
    OPENSSL,
    JDK
  }
}
