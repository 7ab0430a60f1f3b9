package io.postern.tls;

import io.postern.config.ListenerConfig;
import io.vertx.core.Future;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The server TLS settings in use, and the one place that changes them: a certificate reload or a
 * configuration reload calls {@link #replace}. STARTTLS upgrades read {@link #options} at each
 * upgrade; implicit-TLS listeners are told through {@link #follow}. Sessions already in TLS keep
 * the context they were accepted with.
 */
public final class CurrentTls {

  /** By group: only the first of each group is told (see {@link #follow}). */
  private final Map<String, List<Function<ServerTls, Future<?>>>> followers =
      new LinkedHashMap<>();
  private volatile ServerTls current;
  /** The last replacement: replacements run one after the other, never interleaved. */
  private Future<Boolean> last = Future.succeededFuture(true);

  public CurrentTls(ServerTls initial) {
    this.current = initial;
  }

  public ServerTls get() {
    return current;
  }

  /** The options for the next STARTTLS upgrade (or a listener starting now). */
  public ServerSSLOptions options() {
    return current.options();
  }

  /** The options for the next STARTTLS upgrade on {@code listener} (its client certificates). */
  public ServerSSLOptions options(ListenerConfig listener) {
    return current.options(listener.name());
  }

  /** The CAs of {@code listener}'s client certificates now, or null if it asks for none. */
  public ClientCa clientCa(ListenerConfig listener) {
    return current.clientCa(listener.name());
  }

  /** The engine of {@code listener}: fixed at start (tls.engine is not reloaded). */
  public SSLEngineOptions engine(ListenerConfig listener) {
    return current.engine(listener);
  }

  public List<CertificatePair> certificates() {
    return current.certificates();
  }

  /**
   * Calls {@code update} with every replacement, on the replacing thread, if it is the first
   * follower of {@code group} (the others stand by, in case the first stops following); the
   * replacement completes when the futures of those told have. Returns what stops following.
   *
   * <p>Listener instances sharing one Vert.x server form a group: Vert.x keeps the TLS context
   * in the instance that bound the port and hands it to every instance's connections, so one
   * update reaches them all, and in Vert.x 5.0.10 concurrent {@code updateSSLOptions} calls on
   * one server can recurse until the stack overflows (seen with four instances).
   */
  public synchronized Runnable follow(String group, Function<ServerTls, Future<?>> update) {
    followers.computeIfAbsent(group, g -> new ArrayList<>()).add(update);
    return () -> {
      synchronized (this) {
        List<Function<ServerTls, Future<?>>> members = followers.get(group);
        if (members != null && members.remove(update) && members.isEmpty()) {
          followers.remove(group);
        }
      }
    };
  }

  /**
   * Puts {@code next} in use for every new handshake, on every listener. If a listener cannot
   * take it, every listener goes back to the settings in use before and the future fails.
   */
  public Future<Void> replace(ServerTls next) {
    return replaceIf(null, next).mapEmpty();
  }

  /**
   * As {@link #replace}, only if the settings in use are still {@code expected} (null: any) when
   * the replacement's turn comes; completes with false if they were not.
   */
  public synchronized Future<Boolean> replaceIf(ServerTls expected, ServerTls proposed) {
    last = last.transform(ignored -> {
      ServerTls before = current;
      if (expected != null && before != expected) {
        return Future.succeededFuture(false);
      }
      // The listeners keep the engine they started with, and their contexts read its ring.
      ServerTls next = proposed.onEngineOf(before);
      current = next;
      next.useTicketKeys();
      return tell(next).transform(ar -> {
        if (ar.succeeded()) {
          return Future.succeededFuture(true);
        }
        current = before;
        before.useTicketKeys();
        return tell(before).transform(x -> Future.failedFuture(ar.cause()));
      });
    });
    return last;
  }

  private Future<Void> tell(ServerTls tls) {
    List<Function<ServerTls, Future<?>>> first = new ArrayList<>();
    synchronized (this) {
      followers.values().forEach(members -> first.add(members.get(0)));
    }
    List<Future<?>> told = new ArrayList<>();
    for (Function<ServerTls, Future<?>> follower : first) {
      try {
        told.add(follower.apply(tls));
      } catch (RuntimeException e) {
        told.add(Future.failedFuture(e));
      }
    }
    return Future.all(told).mapEmpty();
  }
}
