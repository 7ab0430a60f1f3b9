package io.postern.tls;

import io.postern.config.CertificateFiles;
import io.postern.config.ListenerConfig;
import io.postern.config.TlsConfig;
import io.postern.tls.CertificatePair.CertificateProblem;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * The TLS settings every listener uses towards clients, for implicit TLS and for STARTTLS alike
 * (one policy for both paths: Perdition's CVE-2013-4584 came from having two). Certificates are
 * held by value; the first is the default, the others are picked by SNI.
 */
public final class ServerTls {

  private final ServerSSLOptions options;
  private final SSLEngineOptions engine;
  private final List<CertificatePair> certificates;

  private ServerTls(ServerSSLOptions options, SSLEngineOptions engine,
      List<CertificatePair> certificates) {
    this.options = options;
    this.engine = engine;
    this.certificates = List.copyOf(certificates);
  }

  /** Reads and checks every certificate and key (blocking: start-up or a worker thread). */
  public static ServerTls load(Vertx vertx, TlsConfig config, Duration handshakeTimeout)
      throws CertificateProblem {
    List<CertificatePair> pairs = new ArrayList<>();
    for (CertificateFiles files : config.certificates()) {
      pairs.add(check(vertx, files));
    }
    SSLEngineOptions engine;
    try {
      engine = TlsEngines.select(config.engine());
    } catch (IllegalStateException e) {
      throw new CertificateProblem(e.getMessage());
    }
    return new ServerTls(build(pairs, config.protocols(), handshakeTimeout), engine, pairs);
  }

  /** Reads one certificate and key and checks that they belong together (blocking). */
  public static CertificatePair check(Vertx vertx, CertificateFiles files)
      throws CertificateProblem {
    return checkKey(vertx, CertificatePair.read(files));
  }

  /** Checks that the key of {@code pair} belongs to its certificate (blocking). */
  public static CertificatePair checkKey(Vertx vertx, CertificatePair pair)
      throws CertificateProblem {
    pair.checkKeyMatches(privateKey(vertx, pair));
    return pair;
  }

  /**
   * The same settings serving other certificates (checked by the caller): what a certificate
   * reload puts in place. The engine, protocols and timeouts stay.
   */
  public ServerTls withCertificates(List<CertificatePair> pairs) {
    ServerSSLOptions next = new ServerSSLOptions(options)
        .setKeyCertOptions(keys(pairs))
        .setSni(pairs.size() > 1);
    return new ServerTls(next, engine, pairs);
  }

  /** The options for {@code NetServerOptions} and for every {@code upgradeToSsl}. */
  public ServerSSLOptions options() {
    return options;
  }

  /**
   * The engine for {@code listener}'s connections, implicit TLS and STARTTLS: it refuses clients
   * that offer ALPN without the listener's protocol ({@link AlpnPolicy}).
   */
  public SSLEngineOptions engine(ListenerConfig listener) {
    return AlpnEngineOptions.of(engine,
        new AlpnPolicy(listener.protocol().id(), listener.name()));
  }

  public List<CertificatePair> certificates() {
    return certificates;
  }

  private static ServerSSLOptions build(List<CertificatePair> pairs, List<String> protocols,
      Duration handshakeTimeout) {
    ServerSSLOptions options = new ServerSSLOptions()
        .setKeyCertOptions(keys(pairs))
        .setSni(pairs.size() > 1)
        .setEnabledSecureTransportProtocols(new HashSet<>(protocols))
        .setSslHandshakeTimeout(handshakeTimeout.toMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
    for (String suite : TlsDefaults.CIPHER_SUITES) {
      options.addEnabledCipherSuite(suite);
    }
    return options;
  }

  /** By value: new bytes make new options, which is what makes Vert.x build a new context. */
  private static PemKeyCertOptions keys(List<CertificatePair> pairs) {
    PemKeyCertOptions keys = new PemKeyCertOptions();
    for (CertificatePair pair : pairs) {
      keys.addCertValue(Buffer.buffer(pair.certPem())).addKeyValue(Buffer.buffer(pair.keyPem()));
    }
    return keys;
  }

  private static PrivateKey privateKey(Vertx vertx, CertificatePair pair)
      throws CertificateProblem {
    try {
      PemKeyCertOptions one = new PemKeyCertOptions()
          .setCertValue(Buffer.buffer(pair.certPem()))
          .setKeyValue(Buffer.buffer(pair.keyPem()));
      for (KeyManager km : one.getKeyManagerFactory(vertx).getKeyManagers()) {
        if (km instanceof X509KeyManager x509) {
          for (String type : new LinkedHashSet<>(List.of("RSA", "EC", "EdDSA", "Ed25519"))) {
            String[] aliases = x509.getServerAliases(type, null);
            if (aliases != null && aliases.length > 0) {
              return x509.getPrivateKey(aliases[0]);
            }
          }
        }
      }
      throw new CertificateProblem(pair.files().key() + " holds no usable private key");
    } catch (CertificateProblem e) {
      throw e;
    } catch (Exception e) {
      // The parser's message can quote key material; name the file only.
      throw new CertificateProblem(pair.files().key() + " is not a PEM private key (PKCS#8, PKCS#1"
          + " or SEC1) matching " + pair.files().cert());
    }
  }
}
