package io.postern.session;

import io.postern.auth.ClientCertificate;
import io.postern.tls.ClientCa;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** The client certificate of a TLS session, checked against the listener's CAs. */
final class ClientCertificates {

  private ClientCertificates() {}

  /** {@code NONE} when the client sent none; else its details, and whether {@code ca} agrees. */
  static ClientCertificate read(SSLSession session, ClientCa ca) {
    Certificate[] chain;
    try {
      chain = session == null ? null : session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return ClientCertificate.NONE;
    }
    if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return ClientCertificate.NONE;
    }
    return ClientCertificate.of(leaf, ca.verify(chain));
  }
}
