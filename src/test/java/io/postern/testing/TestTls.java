package io.postern.testing;

import io.vertx.core.net.SelfSignedCertificate;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A self-signed certificate for one host name, with JDK contexts that trust or serve it. */
public final class TestTls implements AutoCloseable {

  private final SelfSignedCertificate certificate;
  private final String host;

  private TestTls(String host) {
    this.host = host;
    this.certificate = SelfSignedCertificate.create(host);
  }

  /** A fresh certificate (RSA key generation takes a while: prefer {@link #shared}). */
  public static TestTls forHost(String host) {
    return new TestTls(host);
  }

  private static final java.util.Map<String, TestTls> SHARED =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** One certificate per host name for the whole test run; never closed. */
  public static TestTls shared(String host) {
    return SHARED.computeIfAbsent(host, TestTls::new);
  }

  public String host() {
    return host;
  }

  public Path certPath() {
    return Path.of(certificate.certificatePath());
  }

  public Path keyPath() {
    return Path.of(certificate.privateKeyPath());
  }

  /** A client context that trusts only this certificate. */
  public SSLContext clientContext() {
    return trusting(certPath());
  }

  /** A client context that trusts only the PEM certificate in {@code pem}. */
  public static SSLContext trusting(Path pem) {
    try (InputStream in = Files.newInputStream(pem)) {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("test",
          CertificateFactory.getInstance("X.509").generateCertificate(in));
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A server context presenting this certificate (for fake TLS backends). */
  public SSLContext serverContext() {
    try {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("server", privateKey(), new char[0],
          new Certificate[] {certificate()});
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), null, null);
      return ctx;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The key is PKCS#8 PEM, which the JDK reads once the armour is removed. */
  private java.security.PrivateKey privateKey() throws Exception {
    String pem = Files.readString(keyPath());
    byte[] der = java.util.Base64.getMimeDecoder().decode(pem
        .replaceAll("-----[A-Z ]+-----", ""));
    java.security.spec.PKCS8EncodedKeySpec spec = new java.security.spec.PKCS8EncodedKeySpec(der);
    for (String algorithm : new String[] {"RSA", "EC"}) {
      try {
        return java.security.KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (java.security.spec.InvalidKeySpecException e) {
        // try the next algorithm
      }
    }
    throw new IllegalStateException("unreadable test key");
  }

  private Certificate certificate() throws Exception {
    try (InputStream in = Files.newInputStream(certPath())) {
      return CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  @Override
  public void close() {
    if (SHARED.get(host) != this) {
      certificate.delete();
    }
  }
}
