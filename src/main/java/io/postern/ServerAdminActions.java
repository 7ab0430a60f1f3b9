package io.postern;

import io.postern.admin.AdminActions;
import io.postern.backend.BackendPools;
import io.postern.backend.BackendPools.PoolServer;
import io.postern.session.SessionDirectory;
import io.postern.session.SessionView;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the admin API does to this Postern: sessions from the live-session directory, server
 * drains in the backend pools. Draining the whole instance and reloading are the server's own
 * (given as callbacks).
 */
final class ServerAdminActions implements AdminActions {

  private static final Logger LOG = LoggerFactory.getLogger("postern.admin");
  /** The session log's {@code result} for sessions ended by a kick and by a server drain. */
  static final String KICKED = "kicked";
  static final String DRAINED = "drained";

  private final Supplier<BackendPools> pools;
  private final Supplier<SessionDirectory> sessions;
  private final Supplier<Duration> drainWindow;
  private final Supplier<Future<Integer>> drain;
  private final Supplier<Future<Reload>> reload;

  /**
   * Suppliers, not values: a reload may replace the pools' settings, the directory and the
   * window, and the API must act on what runs now.
   */
  ServerAdminActions(Supplier<BackendPools> pools, Supplier<SessionDirectory> sessions,
      Supplier<Duration> drainWindow, Supplier<Future<Integer>> drain,
      Supplier<Future<Reload>> reload) {
    this.pools = pools;
    this.sessions = sessions;
    this.drainWindow = drainWindow;
    this.drain = drain;
    this.reload = reload;
  }

  @Override
  public Future<List<SessionView>> sessions(String user, String server) {
    Predicate<SessionView> which = v -> (user == null || isUser(v, user))
        && (server == null || onServer(v, server));
    return sessions.get().list(which).compose(list -> {
      // A typo must not look like an idle server: a name no pool has and no session is on.
      if (server != null && list.isEmpty() && pools.get().named(server).isEmpty()) {
        return Future.failedFuture(new UnknownServer(server));
      }
      return Future.succeededFuture(list);
    });
  }

  @Override
  public Future<Integer> kick(String user) {
    return sessions.get().end(v -> isUser(v, user), KICKED, Duration.ZERO);
  }

  @Override
  public Future<ServerDrain> drainServer(String name) {
    PoolServer server;
    try {
      server = resolve(name);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    pools.get().drain(server, true);
    // Its users log in elsewhere from now on; its sessions end spread over the window, so that
    // they do not all land on the next servers in the same second. The answer does not wait
    // for the window: it says how many were told.
    // Logged-in sessions only: one whose last failed login tried this server is not on it.
    Predicate<SessionView> on = v -> v.loggedIn() && server.backend().equals(v.backend())
        && server.server().equals(v.server());
    SessionDirectory directory = sessions.get();
    return directory.list(on).map(list -> {
      directory.end(on, DRAINED, drainWindow.get()).onFailure(e -> LOG.error(
          "admin: ending the sessions of drained server {} failed", server.path(), e));
      return new ServerDrain(List.of(server.path()), list.size());
    });
  }

  @Override
  public Future<ServerDrain> undrainServer(String name) {
    try {
      PoolServer server = resolve(name);
      pools.get().drain(server, false);
      return Future.succeededFuture(new ServerDrain(List.of(server.path()), 0));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  @Override
  public Future<Integer> drain() {
    return drain.get();
  }

  @Override
  public Future<Reload> reload() {
    return reload.get();
  }

  /** {@code name} or {@code backend/name}: exactly one configured server. */
  private PoolServer resolve(String name) {
    List<PoolServer> found = pools.get().named(name);
    if (found.isEmpty()) {
      throw new UnknownServer(name);
    }
    if (found.size() > 1) {
      throw new AmbiguousServer(name, found.stream().map(PoolServer::path).toList());
    }
    return found.get(0);
  }

  private static boolean isUser(SessionView v, String user) {
    return v.user() != null && v.user().equalsIgnoreCase(user);
  }

  /** {@code server} as a server name, or {@code backend/server}. */
  private static boolean onServer(SessionView v, String server) {
    if (v.server() == null) {
      return false;
    }
    int slash = server.indexOf('/');
    return slash < 0 ? server.equals(v.server())
        : server.substring(0, slash).equals(v.backend())
            && server.substring(slash + 1).equals(v.server());
  }
}
