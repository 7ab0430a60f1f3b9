package io.postern.config;

import java.time.Duration;
import java.util.List;

/**
 * Server-side TLS: the certificates (the first is the default, the others are chosen by SNI),
 * the protocol versions and the engine. Every {@code watchInterval} the certificate and key
 * files (and the backends' CA files) are looked at again, and a changed pair is loaded for new
 * handshakes.
 */
public record TlsConfig(List<CertificateFiles> certificates, List<String> protocols, Engine engine,
    Duration watchInterval) {

  public TlsConfig {
    certificates = List.copyOf(certificates);
    protocols = List.copyOf(protocols);
  }

  /** Which TLS implementation terminates client connections. */
  public enum Engine {
    /** OpenSSL (netty-tcnative) when it loads on this platform, else the JDK. */
    AUTO,
    OPENSSL,
    JDK
  }
}
