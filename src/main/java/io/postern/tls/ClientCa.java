package io.postern.tls;

import io.postern.tls.CertificatePair.CertificateProblem;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemTrustOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The CAs a listener trusts for client certificates, held by value (new bytes make new TLS
 * options, as for the server's own certificates). The TLS engine verifies the client's chain in
 * the handshake; {@link #verify} checks it again when a session reads its certificate, so that a
 * session resumed from a ticket another listener issued (they may share ticket keys) never
 * carries an identity this listener's CAs did not issue.
 */
public final class ClientCa {

  /** id-kp-clientAuth (RFC 5280 §4.2.1.12). */
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  /** anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
  private static final String ANY_USAGE = "2.5.29.37.0";

  private final Path file;
  private final byte[] pem;
  private final Set<TrustAnchor> anchors;

  private ClientCa(Path file, byte[] pem, Set<TrustAnchor> anchors) {
    this.file = file;
    this.pem = pem;
    this.anchors = anchors;
  }

  /** Reads and parses {@code file} (blocking: start-up, a reload's thread). */
  public static ClientCa load(Path file) throws CertificateProblem {
    byte[] pem;
    try {
      pem = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new CertificateProblem("file " + file + " does not exist");
    } catch (IOException e) {
      throw new CertificateProblem("cannot read file " + file + ": "
          + e.getClass().getSimpleName());
    }
    return parse(file, pem);
  }

  /** {@code pem}'s certificates as trust anchors; {@code file} names them in messages. */
  static ClientCa parse(Path file, byte[] pem) throws CertificateProblem {
    Set<TrustAnchor> anchors = new HashSet<>();
    try {
      for (Certificate c : CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem))) {
        if (c instanceof X509Certificate x509) {
          anchors.add(new TrustAnchor(x509, null));
        }
      }
    } catch (CertificateException e) {
      throw new CertificateProblem(file + " is not a PEM file of CA certificates");
    }
    if (anchors.isEmpty()) {
      throw new CertificateProblem(file + " holds no PEM certificate");
    }
    return new ClientCa(file, pem.clone(), Set.copyOf(anchors));
  }

  public Path file() {
    return file;
  }

  /** The trust options Vert.x builds the listener's trust manager from. */
  public PemTrustOptions trustOptions() {
    return new PemTrustOptions().addCertValue(Buffer.buffer(pem));
  }

  /**
   * Null if {@code chain} (the client's, leaf first) leads to one of these CAs and every
   * certificate in it is valid now; else why not, in OpenSSL's words where there are some
   * (what nginx sends after {@code FAILED:}). Revocation is not checked (no CRL is configured).
   */
  public String verify(Certificate[] chain) {
    if (chain == null || chain.length == 0) {
      return "no certificate";
    }
    List<X509Certificate> path = new ArrayList<>();
    for (Certificate c : chain) {
      if (!(c instanceof X509Certificate x509)) {
        return "unsupported certificate type";
      }
      path.add(x509);
    }
    try {
      // The chain as sent may end with the root itself: PKIX wants it without its anchor.
      while (path.size() > 1 && isAnchor(path.get(path.size() - 1))) {
        path.remove(path.size() - 1);
      }
      PKIXParameters params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX").validate(
          CertificateFactory.getInstance("X.509").generateCertPath(path), params);
      return forClients(path.get(0)) ? null : "unsupported certificate purpose";
    } catch (CertPathValidatorException e) {
      return reason(e);
    } catch (GeneralSecurityException e) {
      return "certificate verify failed";
    }
  }

  /**
   * A leaf that limits its use (extended key usage) must allow TLS clients, as OpenSSL's
   * {@code sslclient} purpose asks: a server's certificate from the same CA is no client's
   * identity.
   */
  private static boolean forClients(X509Certificate leaf) throws GeneralSecurityException {
    List<String> usage = leaf.getExtendedKeyUsage();
    return usage == null || usage.contains(CLIENT_AUTH) || usage.contains(ANY_USAGE);
  }

  private boolean isAnchor(X509Certificate c) {
    for (TrustAnchor a : anchors) {
      if (a.getTrustedCert().equals(c)) {
        return true;
      }
    }
    return false;
  }

  private static String reason(CertPathValidatorException e) {
    if (e.getReason() instanceof CertPathValidatorException.BasicReason basic) {
      return switch (basic) {
        case EXPIRED -> "certificate has expired";
        case NOT_YET_VALID -> "certificate is not yet valid";
        case INVALID_SIGNATURE -> "certificate signature failure";
        case REVOKED -> "certificate revoked";
        default -> "unable to get local issuer certificate";
      };
    }
    return "unable to get local issuer certificate";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientCa other && file.equals(other.file) && Arrays.equals(pem, other.pem);
  }

  @Override
  public int hashCode() {
    return file.hashCode() * 31 + Arrays.hashCode(pem);
  }

  @Override
  public String toString() {
    return "client CA " + file;
  }
}
