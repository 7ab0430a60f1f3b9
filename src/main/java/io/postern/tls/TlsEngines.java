package io.postern.tls;

import io.postern.config.TlsConfig;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;

/** Picks the TLS engine named by {@code tls.engine}. */
public final class TlsEngines {

  private TlsEngines() {}

  public static SSLEngineOptions select(TlsConfig.Engine engine) {
    return switch (engine) {
      case JDK -> new JdkSSLEngineOptions();
      case OPENSSL -> {
        if (!OpenSSLEngineOptions.isAvailable()) {
          throw new IllegalStateException("tls.engine is openssl, but netty-tcnative cannot load on"
              + " this platform; use engine: auto or jdk");
        }
        yield new OpenSSLEngineOptions();
      }
      case AUTO -> OpenSSLEngineOptions.isAvailable()
          ? new OpenSSLEngineOptions() : new JdkSSLEngineOptions();
    };
  }

  /** "openssl (BoringSSL, netty-tcnative 2.0.75.Final)" or "jdk (SunJSSE, Java 17.0.21)". */
  public static String describe(SSLEngineOptions options) {
    if (options instanceof OpenSSLEngineOptions) {
      String tcnative = io.netty.util.Version.identify().entrySet().stream()
          .filter(e -> e.getKey().startsWith("netty-tcnative"))
          .map(e -> e.getKey() + " " + e.getValue().artifactVersion()).findFirst()
          .orElse(null);
      return "openssl (" + io.netty.handler.ssl.OpenSsl.versionString()
          + (tcnative == null ? "" : ", " + tcnative) + ")";
    }
    String provider;
    try {
      provider = javax.net.ssl.SSLContext.getDefault().getProvider().getName();
    } catch (java.security.NoSuchAlgorithmException e) {
      provider = "JSSE";
    }
    return "jdk (" + provider + ", Java " + System.getProperty("java.version") + ")";
  }
}
