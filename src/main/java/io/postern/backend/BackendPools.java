package io.postern.backend;

import io.postern.config.BackendConfig;
import io.postern.config.Protocol;
import io.vertx.core.net.ClientSSLOptions;
import java.util.ArrayList;
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

  /** One configured server of a pool, as an operator names it: {@code backend/server}. */
  public record PoolServer(BackendPool pool, int index) {
    public String backend() {
      return pool.name();
    }

    public String server() {
      return pool.server(index).name();
    }

    /** {@code backend/server}: unambiguous across backends. */
    public String path() {
      return backend() + "/" + server();
    }
  }

  /**
   * The configured servers {@code name} names: {@code backend/server} names one at most, a bare
   * server name every pool's server of that name (operators mostly use one, and must say the
   * backend when the name is in several). Empty when none has it.
   */
  public List<PoolServer> named(String name) {
    List<PoolServer> out = new ArrayList<>();
    int slash = name.indexOf('/');
    for (BackendPool pool : pools.values()) {
      if (slash >= 0 && !pool.name().equals(name.substring(0, slash))) {
        continue;
      }
      int index = pool.indexOf(slash >= 0 ? name.substring(slash + 1) : name);
      if (index >= 0) {
        out.add(new PoolServer(pool, index));
      }
    }
    return out;
  }

  /**
   * Drains {@code server} (no new logins, as if it were down) or undrains it; logs a change.
   * True if its state changed.
   */
  public boolean drain(PoolServer server, boolean drain) {
    boolean changed = server.pool().drain(server.index(), drain);
    if (changed) {
      LOG.info("backend server {}: backend={} server={}", drain ? "drained" : "undrained",
          server.backend(), server.server());
    }
    return changed;
  }

  /** The drained servers as {@code backend/server}, e.g. to carry them over a reload. */
  public List<String> drained() {
    List<String> out = new ArrayList<>();
    for (BackendPool pool : pools.values()) {
      for (int i = 0; i < pool.size(); i++) {
        if (pool.drained(i)) {
          out.add(new PoolServer(pool, i).path());
        }
      }
    }
    return out;
  }

  /**
   * Drains the servers {@code previous} (the configuration before a reload) had drained that
   * this one still has, by {@code backend/server}: a reload does not undo an operator's drain.
   */
  /**
   * Takes over from {@code previous} (before a reload) each unchanged server's session count
   * and health (see {@link BackendPool#inherit}); returns this.
   */
  public BackendPools carryOver(BackendPools previous) {
    for (BackendPool pool : pools.values()) {
      BackendPool was = previous.get(pool.name());
      if (was != null) {
        pool.inherit(was);
      }
    }
    return this;
  }

  public void keepDrained(BackendPools previous) {
    for (String path : previous.drained()) {
      for (PoolServer server : named(path)) {
        server.pool().drain(server.index(), true);
      }
    }
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
