package io.postern.tls;

import io.vertx.core.http.ClientAuth;
import io.postern.config.CertificateFiles;
import io.postern.config.ClientCertificateConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.TlsConfig;
import io.postern.tls.CertificatePair.CertificateProblem;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.postern.config.Durations;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.X509KeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS settings every listener uses towards clients, for implicit TLS and for STARTTLS alike
 * (one policy for both paths: Perdition's CVE-2013-4584 came from having two). Certificates are
 * held by value; the first is the default, the others are picked by SNI, and pairs for the same
 * names with different key types are offered together ({@link KeyTypeKeyManager}). The session
 * ticket keys and lifetime reach every context through one {@link TicketKeyRing}.
 */
public final class ServerTls {

  private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);

  private final ServerSSLOptions options;
  private final SSLEngineOptions engine;
  private final List<CertificatePair> certificates;
  private final SessionTicketKeys ticketKeys;
  private final Duration sessionTimeout;
  /** Shared by every ServerTls derived from one another and adopted by a reload's new one. */
  private final TicketKeyRing ring;
  /** By listener name: the listeners that ask clients for a certificate. */
  private final Map<String, ClientTrust> clientTrust;
  /** {@link #options} with each of those listeners' client authentication. */
  private final Map<String, ServerSSLOptions> listenerOptions;

  private ServerTls(ServerSSLOptions options, SSLEngineOptions engine,
      List<CertificatePair> certificates, SessionTicketKeys ticketKeys, Duration sessionTimeout,
      TicketKeyRing ring, Map<String, ClientTrust> clientTrust) {
    this.options = options;
    this.engine = engine;
    this.certificates = List.copyOf(certificates);
    this.ticketKeys = ticketKeys;
    this.sessionTimeout = sessionTimeout;
    this.ring = ring;
    this.clientTrust = Map.copyOf(clientTrust);
    Map<String, ServerSSLOptions> byListener = new HashMap<>();
    clientTrust.forEach((name, trust) -> byListener.put(name, new ServerSSLOptions(options)
        .setClientAuth(trust.mode() == ClientCertificateConfig.Mode.REQUIRED
            ? ClientAuth.REQUIRED : ClientAuth.REQUEST)
        .setTrustOptions(trust.ca().trustOptions())));
    this.listenerOptions = Map.copyOf(byListener);
  }

  /** How a listener asks for client certificates, and the CAs that verify them. */
  public record ClientTrust(ClientCertificateConfig.Mode mode, ClientCa ca) {}

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
    SessionTicketKeys keys = SessionTicketKeys.read(config.sessionTicketKeys());
    if (!keys.isEmpty() && !(engine instanceof OpenSSLEngineOptions)) {
      LOG.warn("tls: session-ticket-keys {} are not used: the engine is the JDK's (OpenSSL cannot"
          + " load here), which encrypts tickets with its own random key; sessions resume on"
          + " this instance only", keys.files());
    }
    return new ServerTls(build(pairs, config.protocols(), handshakeTimeout), engine, pairs, keys,
        config.sessionTimeout(), new TicketKeyRing(keys, config.sessionTimeout()), Map.of());
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
    ServerSSLOptions next = new ServerSSLOptions(options).setKeyCertOptions(keys(pairs));
    return new ServerTls(next, engine, pairs, ticketKeys, sessionTimeout, ring, clientTrust);
  }

  /** The same settings with these listeners asking for client certificates (by name). */
  public ServerTls withClientTrust(Map<String, ClientTrust> trust) {
    return new ServerTls(options, engine, certificates, ticketKeys, sessionTimeout, ring, trust);
  }

  /** By listener name, the listeners that ask for client certificates. */
  public Map<String, ClientTrust> clientTrust() {
    return clientTrust;
  }

  /** The CAs of {@code listener}'s client certificates, or null if it asks for none. */
  public ClientCa clientCa(String listener) {
    ClientTrust trust = clientTrust.get(listener);
    return trust == null ? null : trust.ca();
  }

  /** The same settings with other session ticket keys (checked by the caller). */
  public ServerTls withTicketKeys(SessionTicketKeys keys) {
    return new ServerTls(options, engine, certificates, keys, sessionTimeout, ring, clientTrust);
  }

  /**
   * This configuration on the engine and ticket key ring of {@code running}: the engine is fixed
   * at start (listeners keep theirs), and the ring is what every context of theirs reads.
   */
  ServerTls onEngineOf(ServerTls running) {
    if (running == null || (running.engine == engine && running.ring == ring)) {
      return this;
    }
    return new ServerTls(options, running.engine, certificates, ticketKeys, sessionTimeout,
        running.ring, clientTrust);
  }

  /** Puts this one's ticket keys and session lifetime in use on every context (see CurrentTls). */
  void useTicketKeys() {
    ring.use(ticketKeys, sessionTimeout);
  }

  public SessionTicketKeys ticketKeys() {
    return ticketKeys;
  }

  /** One line for the log at start: the engine, the certificates' keys, resumption. */
  public String describe() {
    StringBuilder line = new StringBuilder("engine ").append(TlsEngines.describe(engine));
    line.append(", certificates ").append(certificates.stream().map(ServerTls::keyOf)
        .collect(java.util.stream.Collectors.joining(", ")));
    line.append(", session tickets ").append(ticketKeys.isEmpty()
        ? (engine instanceof OpenSSLEngineOptions ? "with BoringSSL's own random key (this"
            + " process only)" : "with the JDK's own random key (this process only)")
        : "with " + ticketKeys.files().size() + " shared key file(s) " + ticketKeys.files()
            + (engine instanceof OpenSSLEngineOptions ? "" : " NOT USED by the JDK engine"));
    line.append(", sessions resumable for ").append(Durations.format(sessionTimeout));
    return line.toString();
  }

  private static String keyOf(CertificatePair pair) {
    java.security.PublicKey key = pair.leaf().getPublicKey();
    String size = "";
    if (key instanceof java.security.interfaces.RSAKey rsa) {
      size = "-" + rsa.getModulus().bitLength();
    } else if (key instanceof java.security.interfaces.ECKey ec) {
      size = " P-" + ec.getParams().getCurve().getField().getFieldSize();
    }
    return pair.files().cert() + " (" + key.getAlgorithm() + size + ")";
  }

  /** The options for {@code NetServerOptions} and for every {@code upgradeToSsl}. */
  public ServerSSLOptions options() {
    return options;
  }

  /** {@link #options()} with {@code listener}'s client certificate request, if it has one. */
  public ServerSSLOptions options(String listener) {
    return listenerOptions.getOrDefault(listener, options);
  }

  /**
   * The engine for {@code listener}'s connections, implicit TLS and STARTTLS: it refuses clients
   * that offer ALPN without the listener's protocol ({@link AlpnPolicy}).
   */
  public SSLEngineOptions engine(ListenerConfig listener) {
    return AlpnEngineOptions.of(engine,
        new AlpnPolicy(listener.protocol().id(), listener.name()), ring);
  }

  public List<CertificatePair> certificates() {
    return certificates;
  }

  private static ServerSSLOptions build(List<CertificatePair> pairs, List<String> protocols,
      Duration handshakeTimeout) {
    ServerSSLOptions options = new ServerSSLOptions()
        .setKeyCertOptions(keys(pairs))
        .setEnabledSecureTransportProtocols(new HashSet<>(protocols))
        .setSslHandshakeTimeout(handshakeTimeout.toMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
    for (String suite : TlsDefaults.CIPHER_SUITES) {
      options.addEnabledCipherSuite(suite);
    }
    return options;
  }

  /**
   * By value: new bytes make new options, which is what makes Vert.x build a new context. SNI is
   * the key manager's (Vert.x's own SNI would make one context per name and keep one pair per
   * name, losing the RSA/ECDSA choice).
   */
  private static ServerKeys keys(List<CertificatePair> pairs) {
    return new ServerKeys(pairs);
  }

  /** The private key of {@code pair}, parsed from its PEM bytes (blocking). */
  static PrivateKey privateKey(Vertx vertx, CertificatePair pair)
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
