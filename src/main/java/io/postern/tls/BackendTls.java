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

  /** Reads the backend's CA file, if any (blocking: start-up or a worker thread). */
  public static ClientSSLOptions options(BackendConfig backend, Duration handshakeTimeout)
      throws CertificatePair.CertificateProblem {
    byte[] ca = null;
    if (backend.tlsVerify() && backend.ca() != null) {
      try {
        ca = Files.readAllBytes(backend.ca());
      } catch (IOException e) {
        throw new CertificatePair.CertificateProblem(
            "cannot read CA file " + backend.ca() + " of backend '" + backend.name() + "'");
      }
    }
    return options(backend, handshakeTimeout, ca);
  }

  /** The same with the CA file's bytes already read ({@code ca} null: no CA file). */
  public static ClientSSLOptions options(BackendConfig backend, Duration handshakeTimeout,
      byte[] ca) throws CertificatePair.CertificateProblem {
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
    if (ca != null) {
      CertificatePair.parseChainForTrust(backend.ca(), ca);
      options.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(ca)));
    }
    return options;
  }

  /** The CA bytes {@code options} trust, or null (system CAs, or no verification). */
  public static byte[] trusted(ClientSSLOptions options) {
    if (options != null && options.getTrustOptions() instanceof PemTrustOptions pem
        && pem.getCertValues().size() == 1) {
      return pem.getCertValues().get(0).getBytes();
    }
    return null;
  }
}
