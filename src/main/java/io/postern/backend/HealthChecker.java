package io.postern.backend;

import io.postern.config.BackendConfig.HealthCheck;
import io.postern.config.Protocol;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Checks every server of every pool whose {@code health-check} is enabled, for each protocol
 * Postern serves, every {@code interval}, each check bounded by {@code timeout}. Results go to
 * {@link BackendPools} (which takes servers down and up) and the capabilities seen to
 * {@link BackendCapabilities}. The first checks are spread over one interval so that a large
 * pool is not probed in one burst; a check still running when its next is due skips that turn.
 */
public final class HealthChecker {

  /** How long each check took and how it ended; metrics are kept out of this package. */
  @FunctionalInterface
  public interface Results {
    void checked(BackendTarget target, Protocol protocol, long nanos, boolean passed);
  }

  private final Vertx vertx;
  private final BackendPools pools;
  private final BackendConnector connector;
  private final Map<Protocol, HealthProbe> probes;
  private final Results results;
  private final List<Long> timers = new ArrayList<>();

  /** {@code probes} holds one probe per protocol that Postern serves. */
  public HealthChecker(Vertx vertx, BackendPools pools, BackendConnector connector,
      Map<Protocol, HealthProbe> probes, Results results) {
    this.vertx = vertx;
    this.pools = pools;
    this.connector = connector;
    this.probes = Map.copyOf(probes);
    this.results = results;
  }

  public synchronized void start() {
    for (BackendPool pool : pools.all()) {
      HealthCheck check = pool.config().healthCheck();
      if (!check.enabled()) {
        continue;
      }
      long interval = check.interval().toMillis();
      for (int i = 0; i < pool.size(); i++) {
        for (Map.Entry<Protocol, HealthProbe> probe : probes.entrySet()) {
          Scheduled one = new Scheduled(pool.target(i, probe.getKey()), probe.getKey(),
              probe.getValue(), check);
          long first = 1 + ThreadLocalRandom.current().nextLong(interval);
          timers.add(vertx.setPeriodic(first, interval, id -> one.run()));
        }
      }
    }
  }

  public synchronized void stop() {
    timers.forEach(vertx::cancelTimer);
    timers.clear();
  }

  /** One server and protocol; its checks never overlap. */
  private final class Scheduled {
    private final BackendTarget target;
    private final Protocol protocol;
    private final HealthProbe probe;
    private final HealthCheck check;
    /** Read on the timer's event loop; written there too, unless the guard timeout fires. */
    private volatile boolean running;

    Scheduled(BackendTarget target, Protocol protocol, HealthProbe probe, HealthCheck check) {
      this.target = target;
      this.protocol = protocol;
      this.probe = probe;
      this.check = check;
    }

    void run() {
      if (running) {
        return;
      }
      running = true;
      long started = System.nanoTime();
      BackendTarget bounded = target.forLogin(null, started + check.timeout().toNanos());
      Future<java.util.Set<String>> checked;
      try {
        checked = probe.check(connector, bounded);
      } catch (RuntimeException e) {
        checked = Future.failedFuture(e);
      }
      // The connection enforces the timeout; this one only guards against a probe that forgets.
      checked.timeout(check.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS)
          .onComplete(ar -> {
            running = false;
            results.checked(target, protocol, System.nanoTime() - started, ar.succeeded());
            if (ar.succeeded()) {
              // A server still rising offers nothing yet: clients cannot be sent there.
              if (pools.succeeded(target, protocol)) {
                pools.capabilities().learned(target.backend(), target.server(), protocol,
                    ar.result());
                // A login on another event loop may have taken it down meanwhile, and forgot
                // what it offers before this put it back.
                if (!pools.up(target, protocol)) {
                  pools.capabilities().forget(target.backend(), target.server(), protocol);
                }
              }
            } else {
              pools.failed(target, protocol, problem(ar.cause()));
            }
          });
    }
  }

  /** A login failure's message is already short and printable; anything else is cut. */
  private static String problem(Throwable e) {
    String m = e.getMessage();
    if (m == null) {
      return e.getClass().getSimpleName();
    }
    return e instanceof BackendLoginException ? m : BackendLoginException.excerpt(m);
  }
}
