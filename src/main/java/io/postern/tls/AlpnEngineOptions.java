package io.postern.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The configured TLS engine with a listener's {@link AlpnPolicy}: through Vert.x's public engine
 * SPI, its server contexts check the client's ALPN offer ({@link AlpnCheckingSslContext}) and
 * select the listener's protocol when offered. They stay the engine Vert.x knows
 * ({@code instanceof} the JDK or OpenSSL options), so Vert.x's own checks still apply.
 */
final class AlpnEngineOptions {

  private AlpnEngineOptions() {}

  static SSLEngineOptions of(SSLEngineOptions engine, AlpnPolicy policy, TicketKeyRing ring) {
    if (engine instanceof OpenSSLEngineOptions openssl) {
      return new OpenSsl(openssl, policy, ring);
    }
    return new Jdk((JdkSSLEngineOptions) engine, policy, ring);
  }

  static final class Jdk extends JdkSSLEngineOptions {
    private final AlpnPolicy policy;
    private final TicketKeyRing ring;

    Jdk(JdkSSLEngineOptions engine, AlpnPolicy policy, TicketKeyRing ring) {
      super(engine);
      this.policy = policy;
      this.ring = ring;
    }

    @Override
    public Jdk copy() {
      return new Jdk(this, policy, ring);
    }

    @Override
    public SslContextFactory sslContextFactory() {
      return new Factory(super.sslContextFactory(), policy, true, false, ring);
    }
  }

  static final class OpenSsl extends OpenSSLEngineOptions {
    private final AlpnPolicy policy;
    private final TicketKeyRing ring;

    OpenSsl(OpenSSLEngineOptions engine, AlpnPolicy policy, TicketKeyRing ring) {
      super(engine);
      this.policy = policy;
      this.ring = ring;
    }

    @Override
    public OpenSsl copy() {
      return new OpenSsl(this, policy, ring);
    }

    @Override
    public SslContextFactory sslContextFactory() {
      return new Factory(super.sslContextFactory(), policy, false,
          OpenSSLEngineOptions.isAlpnAvailable(), ring);
    }
  }

  /**
   * Vert.x's factory for the engine, with server contexts wrapped and ALPN set so that a client
   * offering the listener's protocol gets it selected in the ServerHello: OpenSSL through
   * Netty's ALPN configuration, the JDK by its own selector (see {@link AlpnCheckingSslContext}).
   */
  private static final class Factory implements SslContextFactory {
    private final SslContextFactory engine;
    private final AlpnPolicy policy;
    /** The JDK's engines: they select by their own selector. */
    private final boolean jdk;
    /** OpenSSL's engines, when its ALPN is available: they select through Netty. */
    private final boolean nettyAlpn;
    private final TicketKeyRing ring;
    private boolean forClient;

    Factory(SslContextFactory engine, AlpnPolicy policy, boolean jdk, boolean nettyAlpn,
        TicketKeyRing ring) {
      this.engine = engine;
      this.policy = policy;
      this.jdk = jdk;
      this.nettyAlpn = nettyAlpn;
      this.ring = ring;
    }

    @Override
    public SslContextFactory useAlpn(boolean useAlpn) {
      return this; // decided in create()
    }

    @Override
    public SslContextFactory applicationProtocols(List<String> protocols) {
      return this; // decided in create()
    }

    @Override
    public SslContextFactory clientAuth(ClientAuth clientAuth) {
      engine.clientAuth(clientAuth);
      return this;
    }

    @Override
    public SslContextFactory forClient(boolean forClient) {
      this.forClient = forClient;
      engine.forClient(forClient);
      return this;
    }

    @Override
    public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
      // OpenSSL: Netty converts the chain and key to native form at every handshake (3% of a
      // login's CPU, profiled) unless the factory says they may be cached by alias
      // (KeyTypeKeyManager's aliases never change; a certificate reload makes a new context).
      engine.keyMananagerFactory(jdk || forClient || kmf == null ? kmf
          : new OpenSslCachingX509KeyManagerFactory(kmf));
      return this;
    }

    @Override
    public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
      engine.trustManagerFactory(tmf);
      return this;
    }

    @Override
    public SslContextFactory enabledCipherSuites(Set<String> cipherSuites) {
      engine.enabledCipherSuites(inOrder(cipherSuites));
      return this;
    }

    /**
     * Vert.x hands the suites over as a HashSet; the engines take them in iteration order, as
     * the server's preference for TLS 1.2, and OpenSSL asks the key manager for a certificate in
     * that order too. TlsDefaults' order (ECDSA before RSA) makes both ask for the ECDSA pair
     * first, so a TLS 1.2 client that can take it gets it.
     */
    static Set<String> inOrder(Set<String> suites) {
      if (suites == null) {
        return null;
      }
      List<String> sorted = new java.util.ArrayList<>(suites);
      sorted.sort(java.util.Comparator.comparingInt(suite -> {
        int i = TlsDefaults.CIPHER_SUITES.indexOf(suite);
        return i < 0 ? Integer.MAX_VALUE : i;
      }));
      return new java.util.LinkedHashSet<>(sorted);
    }

    @Override
    public SslContextFactory serverName(String serverName) {
      engine.serverName(serverName);
      return this;
    }

    @Override
    public SslContext create() throws SSLException {
      if (forClient) {
        return engine.create();
      }
      // A mismatch never reaches the engine (the handler refuses it first), so that Vert.x has
      // OpenSSL ignore one does not matter.
      engine.useAlpn(nettyAlpn).applicationProtocols(nettyAlpn ? List.of(policy.protocol()) : null);
      SslContext context = engine.create();
      ring.register(context);
      return new AlpnCheckingSslContext(context, policy, jdk);
    }
  }
}
