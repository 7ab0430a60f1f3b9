package io.postern.admin;

import io.postern.session.SessionView;
import io.vertx.core.Future;
import java.util.List;

/**
 * What the admin API can do to a running Postern. The API checks tokens and arguments and turns
 * answers into JSON; everything here is the running server's own work.
 */
public interface AdminActions {

  /** The live sessions, optionally only a user's (exact, case-insensitive) or a server's. */
  Future<List<SessionView>> sessions(String user, String server);

  /** Ends every session of {@code user}; completes with how many there were. */
  Future<Integer> kick(String user);

  /**
   * Routes no new logins to {@code server} ({@code name} when one backend has a server of that
   * name, or {@code backend/name}) and ends its sessions spread over the drain window; fails with
   * {@link UnknownServer} when no backend has a server of that name, {@link AmbiguousServer}
   * when several do.
   */
  Future<ServerDrain> drainServer(String server);

  /** Routes logins to {@code server} again; fails as {@link #drainServer} does. */
  Future<ServerDrain> undrainServer(String server);

  /**
   * Stops accepting, says goodbye to sessions before login, ends logged-in sessions spread over
   * the drain window; /health/ready reports draining. The process keeps running.
   */
  Future<Integer> drain();

  /** Reloads the configuration file, as SIGHUP does. */
  Future<Reload> reload();

  /** What a server drain or undrain did: the servers it matched and sessions it ended. */
  record ServerDrain(List<String> servers, int sessions) {}

  /** A reload's outcome: applied, or refused with the configuration's errors (key: message). */
  record Reload(boolean applied, List<String> errors, List<String> changes) {}

  /** No backend has a server of that name. */
  final class UnknownServer extends RuntimeException {
    public UnknownServer(String server) {
      super("no backend has a server named " + server);
    }
  }

  /** Several backends have a server of that name: the caller must say which. */
  final class AmbiguousServer extends RuntimeException {
    public AmbiguousServer(String server, List<String> candidates) {
      super("several backends have a server named " + server + ": say which, one of "
          + String.join(", ", candidates));
    }
  }
}
