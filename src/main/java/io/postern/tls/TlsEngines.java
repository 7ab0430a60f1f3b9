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

  public static String describe(SSLEngineOptions options) {
    return options instanceof OpenSSLEngineOptions ? "openssl" : "jdk";
  }
}
