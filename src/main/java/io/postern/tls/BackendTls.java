package io.postern.tls;

import io.postern.config.BackendConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Client TLS options for one backend. With {@code tls-verify} the certificate chain and the host
 * name are checked (RFC 7817; Dovecot's CVE-2011-4318 was a proxy that skipped the name).
 */
public final class BackendTls {

  private BackendTls() {}

  /** Reads the backend's CA file, if any (blocking: start-up only). */
  public static ClientSSLOptions options(BackendConfig backend, Duration handshakeTimeout)
      throws CertificatePair.CertificateProblem {
    ClientSSLOptions options = new ClientSSLOptions()
        .setEnabledSecureTransportProtocols(TlsDefaults.BACKEND_PROTOCOLS)
        .setSslHandshakeTimeout(handshakeTimeout.toMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
    if (!backend.tlsVerify()) {
      return options.setTrustAll(true).setHostnameVerificationAlgorithm("");
    }
    // "HTTPS" rules (SAN match, wildcard in the left-most label) are the ones RFC 7817 asks of
    // mail clients; an unset algorithm would make Vert.x fail every upgrade.
    options.setHostnameVerificationAlgorithm("HTTPS");
    if (backend.ca() != null) {
      try {
        byte[] pem = Files.readAllBytes(backend.ca());
        CertificatePair.parseChainForTrust(backend.ca(), pem);
        options.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(pem)));
      } catch (IOException e) {
        throw new CertificatePair.CertificateProblem(
            "cannot read CA file " + backend.ca() + " of backend '" + backend.name() + "'");
      }
    }
    return options;
  }
}
