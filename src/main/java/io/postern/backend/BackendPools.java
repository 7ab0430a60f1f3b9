package io.postern.backend;

import io.postern.config.BackendConfig;
import io.postern.config.Protocol;
import io.vertx.core.net.ClientSSLOptions;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every configured backend's pool, and the one place where a server's state changes are told:
 * by its health checks and by the logins that reach it or fail to. A change is logged once, as
 * it happens, not per login. Thread-safe; one instance per Postern.
 */
public final class BackendPools {

  private static final Logger LOG = LoggerFactory.getLogger("postern.backend");

  private final Map<String, BackendPool> pools = new LinkedHashMap<>();
  private final BackendCapabilities capabilities = new BackendCapabilities();

  public BackendPools(Collection<BackendConfig> backends, Map<String, ClientSSLOptions> tls) {
    for (BackendConfig backend : backends) {
      pools.put(backend.name(), new BackendPool(backend, tls.get(backend.name())));
    }
  }

  /** New connections to {@code backend}'s servers use {@code tls} (a reloaded CA file). */
  public void useTls(String backend, ClientSSLOptions tls) {
    BackendPool pool = pools.get(backend);
    if (pool != null) {
      pool.useTls(tls);
    }
  }

  /** Null when no backend has that name. */
  public BackendPool get(String name) {
    return pools.get(name);
  }

  public Collection<BackendPool> all() {
    return pools.values();
  }

  /** What the live servers offer, as their checks saw it. */
  public BackendCapabilities capabilities() {
    return capabilities;
  }

  /** The servers a route's user may log in at, best first; null for an unknown backend. */
  public List<BackendTarget> candidates(Route route, Protocol protocol, String user) {
    BackendPool pool = pools.get(route.backend());
    return pool == null ? null : pool.candidates(route, protocol, user);
  }

  /** {@code target} answered a check or took a login; true if it takes logins now. */
  public boolean succeeded(BackendTarget target, Protocol protocol) {
    ServerHealth health = health(target, protocol);
    if (health == null) {
      return true;
    }
    if (health.succeeded() == ServerHealth.Change.CAME_UP) {
      LOG.info("backend server up: backend={} server={} protocol={}", target.backend(),
          target.server(), protocol.id());
    }
    return health.up();
  }

  /** {@code target} failed a check, or could not be reached for a login. */
  public void failed(BackendTarget target, Protocol protocol, String problem) {
    ServerHealth health = health(target, protocol);
    if (health != null && health.failed(problem) == ServerHealth.Change.WENT_DOWN) {
      capabilities.forget(target.backend(), target.server(), protocol);
      LOG.warn("backend server down: backend={} server={} protocol={} reason=\"{}\"",
          target.backend(), target.server(), protocol.id(), problem);
    }
  }

  /** Whether {@code target} takes logins now (a server outside every pool always does). */
  public boolean up(BackendTarget target, Protocol protocol) {
    ServerHealth health = health(target, protocol);
    return health == null || health.up();
  }

  private ServerHealth health(BackendTarget target, Protocol protocol) {
    BackendPool pool = pools.get(target.backend());
    int index = pool == null ? -1 : pool.indexOf(target.server());
    return index < 0 ? null : pool.health(index, protocol);
  }
}
