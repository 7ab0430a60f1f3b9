package io.postern.tls;

import io.postern.config.CertificateFiles;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One certificate chain and its key, read from PEM files into memory. Holding the bytes (not the
 * paths) is what lets a STARTTLS upgrade see a replaced certificate: Vert.x caches TLS contexts by
 * options, and path-based options never change.
 */
public record CertificatePair(CertificateFiles files, byte[] certPem, byte[] keyPem,
    List<X509Certificate> chain) {

  public CertificatePair {
    chain = List.copyOf(chain);
  }

  /** Blocking file reads: call at start-up or on a worker thread. */
  public static CertificatePair read(CertificateFiles files) throws CertificateProblem {
    byte[] cert = readFile(files.cert().toString(), "certificate");
    byte[] key = readFile(files.key().toString(), "key");
    return parse(files, cert, key);
  }

  /** The pair from bytes already read (by the certificate watcher); the key is not checked. */
  public static CertificatePair parse(CertificateFiles files, byte[] cert, byte[] key)
      throws CertificateProblem {
    return new CertificatePair(files, cert, key, parseChain(files, cert));
  }

  /** The leaf's serial number in hex, as {@code openssl x509 -serial} prints it. */
  public String serial() {
    return leaf().getSerialNumber().toString(16).toUpperCase(java.util.Locale.ROOT);
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  public String subject() {
    return leaf().getSubjectX500Principal().getName();
  }

  /** Proves the key belongs to the certificate by signing with one and verifying with the other. */
  public void checkKeyMatches(PrivateKey privateKey) throws CertificateProblem {
    String algorithm = switch (privateKey.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519" -> "Ed25519";
      case "Ed448" -> "Ed448";
      default -> null;
    };
    if (algorithm == null) {
      return;
    }
    try {
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(privateKey);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf().getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(signature)) {
        throw new CertificateProblem(files.key() + " is not the private key of " + files.cert());
      }
    } catch (GeneralSecurityException e) {
      throw new CertificateProblem(files.key() + " is not the private key of " + files.cert());
    }
  }

  public Optional<String> expiryProblem(Instant now) {
    if (now.isAfter(notAfter())) {
      return Optional.of(files.cert() + " expired on " + notAfter());
    }
    return Optional.empty();
  }

  private static byte[] readFile(String path, String what) throws CertificateProblem {
    try {
      return Files.readAllBytes(java.nio.file.Path.of(path));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new CertificateProblem(what + " file " + path + " does not exist");
    } catch (IOException e) {
      throw new CertificateProblem("cannot read " + what + " file " + path + ": " + e.getMessage());
    }
  }

  /** Checks that a CA file holds at least one PEM certificate. */
  public static void parseChainForTrust(java.nio.file.Path file, byte[] pem)
      throws CertificateProblem {
    parseChain(new CertificateFiles(file, file), pem);
  }

  private static List<X509Certificate> parseChain(CertificateFiles files, byte[] pem)
      throws CertificateProblem {
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (var c : factory.generateCertificates(new ByteArrayInputStream(pem))) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new CertificateProblem(files.cert() + " holds no PEM certificate");
      }
      return out;
    } catch (java.security.cert.CertificateException e) {
      throw new CertificateProblem(files.cert() + " is not a PEM certificate chain");
    }
  }

  /** A certificate or key that cannot be used; the message names the file. */
  public static final class CertificateProblem extends Exception {
    public CertificateProblem(String message) {
      super(message);
    }
  }
}
