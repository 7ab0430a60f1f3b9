package io.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

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

  private final Timer connect;
  private final Map<Error, Counter> errors = new EnumMap<>(Error.class);

  BackendMeters(MeterRegistry registry, String backend) {
    connect = Timer.builder("postern.backend.connect.duration")
        .description("TCP connect to the backend, with the handshake for implicit TLS")
        .tag("backend", backend)
        .serviceLevelObjectives(PosternMeters.CONNECT_BUCKETS)
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

  public void error(Error reason) {
    errors.get(reason).increment();
  }
}
