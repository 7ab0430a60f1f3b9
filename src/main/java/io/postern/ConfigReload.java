package io.postern;

import io.postern.admin.AdminActions;
import io.postern.auth.Authenticator;
import io.postern.config.ConfigError;
import io.postern.config.ConfigException;
import io.postern.config.ConfigLoader;
import io.postern.config.PosternConfig;
import io.postern.demo.DemoMode;
import io.postern.logging.LogFormat;
import io.postern.metrics.PosternMeters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the configuration file, as nginx does on SIGHUP: the new file gets every check of
 * {@code --check-config} first, and only a valid one is applied, to new sessions (see {@link
 * PosternServer#reload}); an invalid one is logged and changes nothing. Reloads run one at a
 * time on their own thread: reading files and hashing-cost checks never touch an event loop.
 */
final class ConfigReload {

  private static final Logger LOG = LoggerFactory.getLogger(ConfigReload.class);

  /**
   * What a reload cannot change in a running process: it warns that they wait for a restart.
   * Everything else applies to sessions that begin after the reload.
   */
  static final List<String> RESTART_KEYS = List.of("admin.address", "admin.port", "tls.engine");

  /**
   * What sessions already in progress take from a reload; they keep the rest of the
   * configuration they began with.
   */
  static final String IN_PROGRESS = "logged-in sessions keep relaying with the settings they"
      + " began with; they count toward the new limits.max-connections and"
      + " max-connections-per-ip, logging.format applies to every line from then on, and"
      + " a listener that is removed or whose address, port, protocol, tls or proxy-protocol"
      + " changes has its sessions drained";

  private final Vertx vertx;
  private final Path file;
  private final Map<String, String> env;
  private final PosternServer server;
  private final DemoMode demo;
  private final PosternMeters meters;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "postern-reload");
    t.setDaemon(true);
    return t;
  });

  ConfigReload(Vertx vertx, Path file, Map<String, String> env, PosternServer server,
      DemoMode demo, PosternMeters meters) {
    this.vertx = vertx;
    this.file = file;
    this.env = env;
    this.server = server;
    this.demo = demo;
    this.meters = meters;
  }

  /** Reloads; {@code trigger} says who asked (for the log). Reloads asked at once queue up. */
  Future<AdminActions.Reload> reload(String trigger) {
    Promise<AdminActions.Reload> done = Promise.promise();
    thread.execute(() -> {
      AdminActions.Reload outcome;
      try {
        outcome = reloadNow(trigger);
      } catch (RuntimeException e) {
        LOG.error("configuration reload ({}) failed; the previous configuration stays", trigger,
            e);
        outcome = new AdminActions.Reload(false, List.of("internal error: " + e), List.of());
      }
      meters.configReload(outcome.applied());
      done.complete(outcome);
    });
    return done.future();
  }

  private AdminActions.Reload reloadNow(String trigger) {
    if (server.draining()) {
      LOG.warn("configuration reload ({}) refused: Postern is draining", trigger);
      return new AdminActions.Reload(false, List.of("Postern is draining"), List.of());
    }
    PosternServer.Resources resources;
    Authenticator keep;
    PosternConfig running = server.config();
    try {
      PosternConfig config = ConfigLoader.load(vertx, file, env).await();
      if (demo != null) {
        config = demo.adapt(config);
      }
      // The same auth settings, backends and trusted networks: the running source is kept (a
      // passwd-file re-reads itself). Otherwise a new one is loaded and checked against the new
      // backends, as --check-config would.
      keep = demo != null ? demo.authenticator()
          : keepsAuthSource(running, config) ? server.resources().authenticator() : null;
      resources = PosternServer.load(vertx, config, keep);
    } catch (ConfigException e) {
      List<String> errors = e.errors().stream().map(ConfigReload::text).toList();
      LOG.error("configuration reload ({}) refused, the previous configuration stays:"
          + " {} has {}: {}", trigger, file, errors.size() == 1 ? "an error" : errors.size()
          + " errors", String.join("; ", errors));
      return new AdminActions.Reload(false, errors, List.of());
    } catch (Exception e) {
      LOG.error("configuration reload ({}) refused, the previous configuration stays: {}",
          trigger, e.getMessage());
      return new AdminActions.Reload(false, List.of(String.valueOf(e.getMessage())), List.of());
    }
    PosternConfig next = resources.config();
    for (String key : restartOnly(running, next)) {
      LOG.warn("configuration reload ({}): {} changed; it takes effect at the next restart",
          trigger, key);
    }
    LogFormat.apply(next.logging().format());
    List<String> changes = new ArrayList<>();
    if (!next.logging().equals(running.logging())) {
      changes.add("logging.format " + next.logging().format().name().toLowerCase());
    }
    try {
      server.reload(resources, changes).await();
    } catch (Exception e) {
      if (resources.authenticator() != keep && !server.resources().equals(resources)) {
        // Refused before anything was swapped (Postern began draining): nothing uses it.
        resources.authenticator().close();
      }
      // Applied as far as it went (e.g. a new listener's port was taken): not a success, and
      // what did change is said too.
      LOG.error("configuration reload ({}) failed part-way: {}; applied: {}", trigger,
          e.getMessage(), changes.isEmpty() ? "nothing" : String.join("; ", changes));
      return new AdminActions.Reload(false, List.of(String.valueOf(e.getMessage())), changes);
    }
    LOG.info("configuration reloaded ({}) from {}: {}", trigger, file,
        changes.isEmpty() ? "nothing changed" : String.join("; ", changes));
    return new AdminActions.Reload(true, List.of(), changes);
  }

  /**
   * Whether the running auth source serves {@code next} as it is: the same auth settings, and
   * the same backend names and trusted networks it was checked and built against.
   */
  static boolean keepsAuthSource(PosternConfig running, PosternConfig next) {
    return next.auth().equals(running.auth())
        && next.backends().keySet().equals(running.backends().keySet())
        && next.limits().trustedNetworks().equals(running.limits().trustedNetworks());
  }

  /** The keys of {@link #RESTART_KEYS} whose values differ. */
  static List<String> restartOnly(PosternConfig running, PosternConfig next) {
    List<String> keys = new ArrayList<>();
    if (!Objects.equals(running.admin().address(), next.admin().address())) {
      keys.add("admin.address");
    }
    if (running.admin().port() != next.admin().port()) {
      keys.add("admin.port");
    }
    if (running.tls().engine() != next.tls().engine()) {
      keys.add("tls.engine");
    }
    return keys;
  }

  private static String text(ConfigError error) {
    return error.key() + ": " + error.message();
  }

  void close() {
    thread.shutdownNow();
  }
}
