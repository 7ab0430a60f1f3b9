package io.postern;

import io.postern.backend.BackendConnector;
import io.postern.backend.BackendPool;
import io.postern.backend.BackendPools;
import io.postern.backend.ServerHealth;
import io.postern.backend.HealthChecker;
import io.postern.backend.HealthProbe;
import io.postern.config.ListenerConfig;
import io.postern.config.Protocol;
import io.postern.imap.ImapBackendLogin;
import io.postern.listener.SharedServices;
import io.postern.metrics.BackendMeters;
import io.postern.metrics.Readiness;
import io.postern.pop3.Pop3BackendLogin;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.micrometer.core.instrument.Gauge;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Health checks of every backend server for the protocols Postern serves, with the meters an
 * operator watches them by: {@code postern_backend_up}, {@code postern_backend_sessions} and
 * the checks' durations. Each protocol's check is its login's opening steps.
 */
final class BackendHealth {

  private final HealthChecker checker;
  private final BackendConnector connector;
  private final Map<BackendMeters, List<Gauge>> gauges;

  private BackendHealth(HealthChecker checker, BackendConnector connector,
      Map<BackendMeters, List<Gauge>> gauges) {
    this.checker = checker;
    this.connector = connector;
    this.gauges = gauges;
  }

  static BackendHealth start(Vertx vertx, SharedServices shared) {
    Map<Protocol, HealthProbe> probes = new EnumMap<>(Protocol.class);
    for (ListenerConfig listener : shared.config().listeners()) {
      probes.put(listener.protocol(), listener.protocol() == Protocol.IMAP
          ? ImapBackendLogin::probe : Pop3BackendLogin::probe);
    }
    Map<BackendMeters, List<Gauge>> gauges = new HashMap<>();
    for (BackendPool pool : shared.backends().all()) {
      BackendMeters meters = shared.meters().backend(pool.name());
      List<Gauge> registered = gauges.computeIfAbsent(meters, m -> new ArrayList<>());
      for (int i = 0; i < pool.size(); i++) {
        int index = i;
        String server = pool.server(i).name();
        registered.add(meters.serverSessions(server, () -> pool.sessions(index)));
        registered.add(meters.serverDrained(server, () -> pool.drained(index)));
        for (Protocol protocol : probes.keySet()) {
          registered.add(meters.serverUp(server, protocol,
              () -> pool.health(index, protocol).up()));
        }
      }
    }
    // Its own client, so that checks do not count as logins' connects in the connect timer.
    BackendConnector connector = new BackendConnector(vertx, shared.config(), shared.backends(),
        (backend, nanos) -> { });
    HealthChecker checker = new HealthChecker(vertx, shared.backends(), connector, probes,
        (target, protocol, nanos, passed) -> shared.meters().backend(target.backend())
            .checked(target.server(), protocol, nanos, passed));
    checker.start();
    return new BackendHealth(checker, connector, gauges);
  }

  /** What {@code /health/ready} reports of checked and drained servers. */
  static Readiness.BackendStates states(BackendPools pools) {
    return new Readiness.BackendStates() {
      @Override
      public List<Readiness.ServerState> states(String backend, Protocol protocol) {
        BackendPool pool = pools.get(backend);
        if (pool == null || !pool.config().healthCheck().enabled()) {
          return null;
        }
        List<Readiness.ServerState> out = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) {
          ServerHealth health = pool.health(i, protocol);
          out.add(new Readiness.ServerState(health.up(), health.lastProblem()));
        }
        return out;
      }

      @Override
      public boolean drained(String backend, int index) {
        BackendPool pool = pools.get(backend);
        return pool != null && index < pool.size() && pool.drained(index);
      }
    };
  }

  /** Stops the checks and takes their servers' gauges away (a reload registers its own). */
  Future<Void> stop() {
    checker.stop();
    gauges.forEach(BackendMeters::remove);
    return connector.close();
  }
}
