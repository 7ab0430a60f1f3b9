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

  static SSLEngineOptions of(SSLEngineOptions engine, AlpnPolicy policy) {
    if (engine instanceof OpenSSLEngineOptions openssl) {
      return new OpenSsl(openssl, policy);
    }
    return new Jdk((JdkSSLEngineOptions) engine, policy);
  }

  static final class Jdk extends JdkSSLEngineOptions {
    private final AlpnPolicy policy;

    Jdk(JdkSSLEngineOptions engine, AlpnPolicy policy) {
      super(engine);
      this.policy = policy;
    }

    @Override
    public Jdk copy() {
      return new Jdk(this, policy);
    }

    @Override
    public SslContextFactory sslContextFactory() {
      return new Factory(super.sslContextFactory(), policy, true, false);
    }
  }

  static final class OpenSsl extends OpenSSLEngineOptions {
    private final AlpnPolicy policy;

    OpenSsl(OpenSSLEngineOptions engine, AlpnPolicy policy) {
      super(engine);
      this.policy = policy;
    }

    @Override
    public OpenSsl copy() {
      return new OpenSsl(this, policy);
    }

    @Override
    public SslContextFactory sslContextFactory() {
      return new Factory(super.sslContextFactory(), policy, false,
          OpenSSLEngineOptions.isAlpnAvailable());
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
    private boolean forClient;

    Factory(SslContextFactory engine, AlpnPolicy policy, boolean jdk, boolean nettyAlpn) {
      this.engine = engine;
      this.policy = policy;
      this.jdk = jdk;
      this.nettyAlpn = nettyAlpn;
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
      // OpenSSL: without the cache, Netty encodes the chain and key to PEM and BoringSSL parses
      // them again on every handshake (3% of a login's CPU, profiled). Cached per alias; a
      // certificate reload builds a new context, so a new cache.
      boolean cache = !jdk && kmf != null && !(kmf instanceof OpenSslCachingX509KeyManagerFactory);
      engine.keyMananagerFactory(cache ? new OpenSslCachingX509KeyManagerFactory(kmf) : kmf);
      return this;
    }

    @Override
    public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
      engine.trustManagerFactory(tmf);
      return this;
    }

    @Override
    public SslContextFactory enabledCipherSuites(Set<String> cipherSuites) {
      engine.enabledCipherSuites(cipherSuites);
      return this;
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
      return new AlpnCheckingSslContext(engine.create(), policy, jdk);
    }
  }
}
