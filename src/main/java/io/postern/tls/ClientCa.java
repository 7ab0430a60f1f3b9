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
import java.security.cert.CRL;
import java.security.cert.CRLException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CAs a listener trusts for client certificates, held by value (new bytes make new TLS
 * options, as for the server's own certificates). The TLS engine verifies the client's chain in
 * the handshake; {@link #verify} checks it again when a session reads its certificate, so that a
 * session resumed from a ticket another listener issued (they may share ticket keys) never
 * carries an identity this listener's CAs did not issue. With revocation lists
 * ({@code client-crl}), {@link #verify} also refuses a client certificate they revoke, as
 * nginx's {@code ssl_crl} does (the leaf only, OpenSSL's {@code X509_V_FLAG_CRL_CHECK}); the
 * TLS engine is not given them, so the session's own check is where a revoked certificate
 * is refused.
 */
public final class ClientCa {

  private static final Logger LOG = LoggerFactory.getLogger(ClientCa.class);

  /** id-kp-clientAuth (RFC 5280 §4.2.1.12). */
  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  /** anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
  private static final String ANY_USAGE = "2.5.29.37.0";

  private final Path file;
  private final byte[] pem;
  private final Set<TrustAnchor> anchors;
  private final Path crlFile;
  private final byte[] crlPem;
  private final List<X509CRL> crls;

  private ClientCa(Path file, byte[] pem, Set<TrustAnchor> anchors, Path crlFile, byte[] crlPem,
      List<X509CRL> crls) {
    this.file = file;
    this.pem = pem;
    this.anchors = anchors;
    this.crlFile = crlFile;
    this.crlPem = crlPem;
    this.crls = crls;
  }

  /** These CAs with the revocation lists read from {@code crlFile} (blocking). */
  public ClientCa withCrl(Path crlFile) throws CertificateProblem {
    return withCrls(crlFile, read(crlFile));
  }

  /** Reads and parses {@code file} (blocking: start-up, a reload's thread). */
  public static ClientCa load(Path file) throws CertificateProblem {
    return parse(file, read(file));
  }

  private static byte[] read(Path file) throws CertificateProblem {
    try {
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new CertificateProblem("file " + file + " does not exist");
    } catch (IOException e) {
      throw new CertificateProblem("cannot read file " + file + ": "
          + e.getClass().getSimpleName());
    }
  }

  /**
   * These CAs with the revocation lists in {@code crlPem}: each must be signed by one of them
   * (a list from elsewhere would revoke nothing, silently). A list past its next update is
   * taken, with a warning, as OpenSSL takes it: every certificate of its CA then fails as
   * "unable to get certificate CRL" until a fresh one is loaded.
   */
  ClientCa withCrls(Path crlFile, byte[] crlPem) throws CertificateProblem {
    List<X509CRL> lists = new ArrayList<>();
    try {
      for (CRL crl : CertificateFactory.getInstance("X.509")
          .generateCRLs(new ByteArrayInputStream(crlPem))) {
        if (crl instanceof X509CRL x509) {
          lists.add(x509);
        }
      }
    } catch (CRLException | CertificateException e) {
      throw new CertificateProblem(crlFile + " is not a PEM file of CRLs");
    }
    if (lists.isEmpty()) {
      throw new CertificateProblem(crlFile + " holds no PEM CRL");
    }
    for (X509CRL crl : lists) {
      if (!signedByAnAnchor(crl)) {
        throw new CertificateProblem(crlFile + ": the CRL of " + crl.getIssuerX500Principal()
            + " is not signed by a CA of " + file);
      }
      if (crl.getNextUpdate() != null && crl.getNextUpdate().before(new Date())) {
        LOG.warn("{}: the CRL of {} was due for renewal at {}: its CA's client certificates are"
            + " refused until a fresh CRL is loaded", crlFile, crl.getIssuerX500Principal(),
            crl.getNextUpdate().toInstant());
      }
    }
    for (TrustAnchor a : anchors) {
      X500Principal ca = a.getTrustedCert().getSubjectX500Principal();
      if (lists.stream().noneMatch(crl -> crl.getIssuerX500Principal().equals(ca))) {
        LOG.warn("{} holds no CRL of {} (in {}): client certificates it issues are refused"
            + " (unable to get certificate CRL)", crlFile, ca, file);
      }
    }
    return new ClientCa(file, pem, anchors, crlFile, crlPem.clone(), List.copyOf(lists));
  }

  private boolean signedByAnAnchor(X509CRL crl) {
    for (TrustAnchor a : anchors) {
      X509Certificate ca = a.getTrustedCert();
      if (ca.getSubjectX500Principal().equals(crl.getIssuerX500Principal())) {
        try {
          crl.verify(ca.getPublicKey());
          return true;
        } catch (GeneralSecurityException e) {
          // Another CA of the same name, perhaps: try the rest.
        }
      }
    }
    return false;
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
    return new ClientCa(file, pem.clone(), Set.copyOf(anchors), null, null, List.of());
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
   * (what nginx sends after {@code FAILED:}). With revocation lists, the leaf must not be on
   * its CA's current one.
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
      CertPathValidator validator = CertPathValidator.getInstance("PKIX");
      params.setRevocationEnabled(!crls.isEmpty());
      if (!crls.isEmpty()) {
        params.addCertStore(CertStore.getInstance("Collection",
            new CollectionCertStoreParameters(crls)));
        // The configured lists only: never a fetch from a distribution point or OCSP responder
        // named in the client's own certificate.
        PKIXRevocationChecker checker = (PKIXRevocationChecker) validator.getRevocationChecker();
        checker.setOptions(EnumSet.of(PKIXRevocationChecker.Option.ONLY_END_ENTITY,
            PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK));
        params.addCertPathChecker(checker);
      }
      validator.validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
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
        case UNDETERMINED_REVOCATION_STATUS -> "unable to get certificate CRL";
        default -> "unable to get local issuer certificate";
      };
    }
    return "unable to get local issuer certificate";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientCa other && file.equals(other.file) && Arrays.equals(pem, other.pem)
        && Objects.equals(crlFile, other.crlFile) && Arrays.equals(crlPem, other.crlPem);
  }

  @Override
  public int hashCode() {
    return (file.hashCode() * 31 + Arrays.hashCode(pem)) * 31 + Arrays.hashCode(crlPem);
  }

  @Override
  public String toString() {
    return "client CA " + file + (crlFile == null ? "" : ", CRL " + crlFile);
  }
}
