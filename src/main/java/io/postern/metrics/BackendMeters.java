package io.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.postern.config.Protocol;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/** Connections to one named backend. */
public final class BackendMeters {

  /** What went wrong with a backend, as the {@code reason} label says it. */
  public enum Error {
    /** Refused, reset, unreachable or no answer to the TCP connect. */
    UNREACHABLE,
    /** Connected, but the greeting or login did not come in time. */
    TIMEOUT,
    /** Unexpected greeting or reply. */
    PROTOCOL,
    /** STARTTLS refused or a handshake or certificate failed. */
    TLS,
    /** The backend said it cannot serve the user now. */
    UNAVAILABLE;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final MeterRegistry registry;
  private final String backend;
  private final Timer connect;
  private final Counter failovers;
  private final Map<Error, Counter> errors = new EnumMap<>(Error.class);

  BackendMeters(MeterRegistry registry, String backend) {
    this.registry = registry;
    this.backend = backend;
    connect = Timer.builder("postern.backend.connect.duration")
        .description("TCP connect to the backend, with the handshake for implicit TLS")
        .tag("backend", backend)
        .serviceLevelObjectives(PosternMeters.CONNECT_BUCKETS)
        .register(registry);
    failovers = Counter.builder("postern.backend.failovers")
        .description("Logins that moved on to another server of the backend's pool")
        .tag("backend", backend)
        .register(registry);
    for (Error e : Error.values()) {
      errors.put(e, Counter.builder("postern.backend.errors")
          .description("Failed backend connections and logins, by reason")
          .tags("backend", backend, "reason", e.label())
          .register(registry));
    }
  }

  public void connected(long nanos) {
    connect.record(Duration.ofNanos(nanos));
  }

  /** Whether {@code server} takes new logins for {@code protocol}, read at each scrape. */
  public Gauge serverUp(String server, Protocol protocol, BooleanSupplier up) {
    return Gauge.builder("postern.backend.up", () -> up.getAsBoolean() ? 1 : 0)
        .description("1 while the server takes new logins for the protocol, 0 while it is down")
        .tags("backend", backend, "server", server, "protocol", protocol.id())
        .register(registry);
  }

  /** Whether an operator drained {@code server} (admin API), read at each scrape. */
  public Gauge serverDrained(String server, BooleanSupplier drained) {
    return Gauge.builder("postern.backend.drained", () -> drained.getAsBoolean() ? 1 : 0)
        .description("1 while an operator has drained the server: it gets no new logins")
        .tags("backend", backend, "server", server)
        .register(registry);
  }

  /** Sessions relaying through {@code server}, read at each scrape. */
  public Gauge serverSessions(String server, IntSupplier sessions) {
    return Gauge.builder("postern.backend.sessions", sessions::getAsInt)
        .description("Logged-in sessions relaying through the server, all protocols")
        .tags("backend", backend, "server", server)
        .register(registry);
  }

  /**
   * Removes gauges {@link #serverUp}, {@link #serverSessions} and {@link #serverDrained} gave: a reloaded configuration
   * registers its own servers' (a gauge registered again keeps reading the first one's source).
   */
  public void remove(List<Gauge> gauges) {
    gauges.forEach(registry::remove);
  }

  /** One health check of {@code server} took {@code nanos}; {@code passed} or not. */
  public void checked(String server, Protocol protocol, long nanos, boolean passed) {
    Timer.builder("postern.backend.check.duration")
        .description("Health checks: connect, greeting, TLS, capabilities and goodbye")
        .tags("backend", backend, "server", server, "protocol", protocol.id(),
            "result", passed ? "passed" : "failed")
        .serviceLevelObjectives(PosternMeters.CONNECT_BUCKETS)
        .register(registry)
        .record(Duration.ofNanos(nanos));
  }

  public void failover() {
    failovers.increment();
  }

  public void error(Error reason) {
    errors.get(reason).increment();
  }
}
