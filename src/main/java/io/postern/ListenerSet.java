package io.postern;

import io.postern.config.ListenerConfig;
import io.postern.config.TlsMode;
import io.postern.listener.ListenerVerticle;
import io.postern.listener.SharedServices;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listeners Postern runs, by name, each deployed once per event loop. A reload keeps a
 * listener whose socket is unchanged and gives its instances the new configuration (its open
 * sessions go on); a listener whose address, port, protocol, TLS mode or PROXY setting changed is
 * stopped (its sessions drained as at shutdown) and started anew, as is one that is added; one
 * that is gone is stopped.
 */
final class ListenerSet {

  private static final Logger LOG = LoggerFactory.getLogger(ListenerSet.class);

  /** One deployed listener: its configuration, its deployment and its instances. */
  private record Running(ListenerConfig config, String deployment,
      List<ListenerVerticle> instances) {}

  /** A rebind on a just-freed port: up to 2 s (20 tries, 100 ms apart). */
  private static final int REBIND_TRIES = 20;
  private static final long REBIND_PAUSE_MILLIS = 100;

  private final Vertx vertx;
  private final int instancesPerListener;
  /** Never reused: see {@link ListenerVerticle}'s share key. */
  private final AtomicInteger shareKeys = new AtomicInteger();
  /** Guarded by this; in configuration order. */
  private final Map<String, Running> running = new LinkedHashMap<>();
  /** Stops under way (removed or rebound listeners): they drain their sessions. */
  private final List<Future<Void>> stopping = new CopyOnWriteArrayList<>();

  ListenerSet(Vertx vertx, int instancesPerListener) {
    this.vertx = vertx;
    this.instancesPerListener = instancesPerListener;
  }

  /**
   * Deploys {@code listener}: the first instance binds alone, so that the others find it bound
   * when they listen (see SharedServerTls: they must adopt its TLS context before their first
   * connection). Fails with a message naming the listener ({@code index} in the configuration).
   */
  Future<Void> start(SharedServices shared, ListenerConfig listener, int index) {
    int shareKey = shareKeys.getAndIncrement();
    List<ListenerVerticle> instances = new CopyOnWriteArrayList<>();
    List<String> deployments = new ArrayList<>();
    return deploy(shared, listener, shareKey, 1, instances, deployments)
        .compose(v -> instancesPerListener > 1
            ? deploy(shared, listener, shareKey, instancesPerListener - 1, instances, deployments)
            : Future.succeededFuture())
        .andThen(ar -> {
          if (ar.succeeded()) {
            synchronized (this) {
              // Both deployments are kept: stopping the listener undeploys each.
              running.put(listener.name(), new Running(listener, String.join(" ", deployments),
                  instances));
            }
          } else {
            // The first instance bound but the others did not: nothing half-started stays.
            deployments.forEach(vertx::undeploy);
          }
        })
        .recover(e -> Future.failedFuture(BindProblem.explain(listener, index, e)));
  }

  private Future<Void> deploy(SharedServices shared, ListenerConfig listener, int shareKey,
      int count, List<ListenerVerticle> instances, List<String> deployments) {
    return vertx.deployVerticle(() -> {
          ListenerVerticle verticle = new ListenerVerticle(shared, listener, shareKey);
          instances.add(verticle);
          return verticle;
        }, new DeploymentOptions().setInstances(count))
        .map(id -> {
          deployments.add(id);
          return null;
        });
  }

  /**
   * Brings the listeners to {@code next}'s; says what it did in {@code changes}. With {@code
   * sniChanged} (one certificate before and several now, or the reverse), implicit-TLS listeners
   * are rebound too: Vert.x fixes a server's SNI setting when it binds. Completes when
   * every kept listener has the new services and every new one is bound (or failed to bind: then
   * with that failure, the others applied).
   */
  Future<Void> apply(SharedServices next, boolean sniChanged, List<String> changes) {
    List<ListenerConfig> wanted = next.config().listeners();
    Map<String, Running> before;
    synchronized (this) {
      before = new LinkedHashMap<>(running);
    }
    Map<Integer, List<Future<Void>>> stoppedByPort = new LinkedHashMap<>();
    List<Future<Void>> steps = new ArrayList<>();
    for (Running old : before.values()) {
      ListenerConfig now = find(wanted, old.config().name());
      if (now == null || !sameSocket(old.config(), now)
          || sniChanged && now.tls() == TlsMode.IMPLICIT) {
        changes.add("listener " + old.config().name()
            + (now == null ? " removed" : " rebound to " + now.endpoint()));
        LOG.info("listener {} on {} stops; its sessions are drained", old.config().name(),
            old.config().endpoint());
        String name = old.config().name();
        next.sessions().end(session -> session.listener().equals(name), "drained",
            next.config().limits().drainWindow());
        Future<Void> stopped = stop(old, next);
        stoppedByPort.computeIfAbsent(old.config().port(), p -> new ArrayList<>()).add(stopped);
      } else {
        if (!old.config().equals(now)) {
          changes.add("listener " + now.name() + " changed");
        }
        for (ListenerVerticle instance : old.instances()) {
          steps.add(instance.reconfigure(next, now));
        }
        synchronized (this) {
          running.put(now.name(), new Running(now, old.deployment(), old.instances()));
        }
      }
    }
    for (int i = 0; i < wanted.size(); i++) {
      ListenerConfig listener = wanted.get(i);
      Running old = before.get(listener.name());
      if (old != null && sameSocket(old.config(), listener)
          && !(sniChanged && listener.tls() == TlsMode.IMPLICIT)) {
        continue;
      }
      if (old == null) {
        changes.add("listener " + listener.name() + " added on " + listener.endpoint());
      }
      // The same port (on any address: 0.0.0.0 covers them all): the old socket must be closed
      // before the new one can bind, and Vert.x would otherwise add the new listener to the old
      // server. Port 0 never clashes.
      List<Future<Void>> free = listener.port() == 0 ? List.of()
          : stoppedByPort.getOrDefault(listener.port(), List.of());
      int index = i;
      steps.add(Future.join(free).<Void>mapEmpty().otherwiseEmpty()
          .compose(v -> free.isEmpty() ? start(next, listener, index)
              : startOnFreedPort(next, listener, index, REBIND_TRIES))
          .onSuccess(v -> LOG.info("listener {} ({}, tls {}) on {}:{}", listener.name(),
              listener.protocol().id(), listener.tls().id(), listener.address(),
              next.boundPorts().get(listener.name()))));
    }
    return Future.join(steps).mapEmpty();
  }

  /**
   * Binds a listener on a port whose old server has just closed: the socket may still be
   * closing for a moment after Vert.x reports the server closed, so a refused bind is tried
   * again a little later, {@code tries} times.
   */
  private Future<Void> startOnFreedPort(SharedServices next, ListenerConfig listener, int index,
      int tries) {
    return start(next, listener, index).recover(e -> {
      if (tries <= 1 || !String.valueOf(e.getMessage()).contains("in use")) {
        return Future.failedFuture(e);
      }
      io.vertx.core.Promise<Void> again = io.vertx.core.Promise.promise();
      vertx.setTimer(REBIND_PAUSE_MILLIS, id ->
          startOnFreedPort(next, listener, index, tries - 1).onComplete(again));
      return again.future();
    });
  }

  private Future<Void> stop(Running old, SharedServices next) {
    synchronized (this) {
      running.remove(old.config().name());
    }
    next.boundPorts().remove(old.config().name());
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : old.deployment().split(" ")) {
      if (!id.isEmpty()) {
        undeployed.add(vertx.undeploy(id));
      }
    }
    Future<Void> done = Future.join(undeployed).mapEmpty();
    stopping.add(done);
    done.onComplete(ar -> stopping.remove(done));
    return done;
  }

  /** Stops every listener (and waits for the stops a reload began). */
  Future<Void> stopAll(SharedServices current) {
    List<Running> all;
    synchronized (this) {
      all = new ArrayList<>(running.values());
    }
    List<Future<Void>> stops = new ArrayList<>(stopping);
    for (Running r : all) {
      stops.add(stop(r, current));
    }
    return Future.join(stops).mapEmpty();
  }

  /** Whether {@code a} and {@code b} (one listener's, by name) use one socket the same way. */
  static boolean sameSocket(ListenerConfig a, ListenerConfig b) {
    return a.protocol() == b.protocol() && a.address().equals(b.address())
        && a.port() == b.port() && a.tls() == b.tls() && a.proxyProtocol() == b.proxyProtocol();
  }

  private static ListenerConfig find(List<ListenerConfig> listeners, String name) {
    for (ListenerConfig l : listeners) {
      if (l.name().equals(name)) {
        return l;
      }
    }
    return null;
  }
}
