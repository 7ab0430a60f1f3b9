package io.postern.config;

import java.util.List;
import java.util.Map;

/** The whole configuration, immutable once loaded. */
public record PosternConfig(
    List<ListenerConfig> listeners,
    TlsConfig tls,
    AuthConfig auth,
    Map<String, BackendConfig> backends,
    LimitsConfig limits,
    AdminConfig admin,
    LoggingConfig logging) {

  /** The backend used when a user's record names none. */
  public static final String DEFAULT_BACKEND = "default";

  public PosternConfig {
    listeners = List.copyOf(listeners);
    backends = Map.copyOf(backends);
  }

  public BackendConfig defaultBackend() {
    return backends.get(DEFAULT_BACKEND);
  }

  public PosternConfig withBackends(Map<String, BackendConfig> otherBackends) {
    return new PosternConfig(listeners, tls, auth, otherBackends, limits, admin, logging);
  }

  public PosternConfig withLimits(LimitsConfig otherLimits) {
    return new PosternConfig(listeners, tls, auth, backends, otherLimits, admin, logging);
  }

  public PosternConfig withTls(TlsConfig otherTls) {
    return new PosternConfig(listeners, otherTls, auth, backends, limits, admin, logging);
  }
}
