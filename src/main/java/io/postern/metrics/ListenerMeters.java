package io.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.postern.config.ListenerConfig;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The meters of one listener, shared by its instances on every event loop. */
public final class ListenerMeters {

  /** Why a connection was refused before its session began. */
  public enum Rejection {
    MAX_CONNECTIONS, PER_IP, PROXY_HEADER,
    /** {@code limits.connection-rate-per-ip}. */
    CONNECTION_RATE,
    /** {@code limits.handshake-rate-per-ip}, on an implicit-TLS listener. */
    HANDSHAKE_RATE,
    /** The process is near its open-file limit. */
    DESCRIPTORS;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final MeterRegistry registry;
  private final String listener;
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicInteger up = new AtomicInteger();
  private final Counter accepted;
  private final Map<Rejection, Counter> rejected = new ConcurrentHashMap<>();
  private final Map<String, Counter> handshakes = new ConcurrentHashMap<>();
  private final Counter failedHandshakes;
  private final Counter abandonedHandshakes;
  private final Counter refusedHandshakes;
  private final Counter refusedAlpn;

  ListenerMeters(MeterRegistry registry, ListenerConfig config, List<String> tlsVersions) {
    this.registry = registry;
    this.listener = config.name();
    String protocol = config.protocol().id();
    Gauge.builder("postern.connections.active", active, AtomicInteger::get)
        .description("Client connections open now")
        .tags("listener", listener, "protocol", protocol)
        .register(registry);
    Gauge.builder("postern.listener.up", up, AtomicInteger::get)
        .description("1 while the listener accepts connections, 0 once it has stopped")
        .tags("listener", listener, "protocol", protocol)
        .register(registry);
    accepted = Counter.builder("postern.connections")
        .description("Client connections accepted, including those then refused")
        .tags("listener", listener, "protocol", protocol)
        .register(registry);
    for (Rejection r : Rejection.values()) {
      rejected.put(r, Counter.builder("postern.connections.rejected")
          .description("Client connections refused before their session began")
          .tags("listener", listener, "reason", r.label())
          .register(registry));
    }
    // A plaintext listener without STARTTLS never handshakes: no series for it.
    boolean tls = config.tls() != io.postern.config.TlsMode.NONE;
    if (tls) {
      for (String version : tlsVersions) {
        handshakes.put(version, handshakeCounter("success", version));
      }
    }
    failedHandshakes = tls ? handshakeCounter("failure", "none") : null;
    abandonedHandshakes = tls ? handshakeCounter("closed", "none") : null;
    refusedHandshakes = tls ? handshakeCounter("refused", "none") : null;
    refusedAlpn = tls ? handshakeCounter("no_application_protocol", "none") : null;
  }

  /** A TCP connection arrived (it may still be refused). */
  public void accepted() {
    accepted.increment();
  }

  /** A connection was admitted; {@link #closed} follows when it ends. */
  public void opened() {
    active.incrementAndGet();
  }

  public void closed() {
    active.decrementAndGet();
  }

  public void rejected(Rejection why) {
    rejected.get(why).increment();
  }

  /** A TLS handshake completed with {@code version} (e.g. TLSv1.3). */
  public void handshake(String version) {
    // The versions come from the TLS stack and are limited by tls.protocols: a handful.
    handshakes.computeIfAbsent(version, v -> handshakeCounter("success", v)).increment();
  }

  /**
   * A handshake did not complete. When the client simply went away (TCP health checks and port
   * scanners, mostly) it counts as {@code closed}, not as a failure.
   */
  public void handshakeFailed(Throwable cause) {
    Counter counter = isClosed(cause) ? abandonedHandshakes : failedHandshakes;
    if (counter != null) {
      counter.increment();
    }
  }

  /** A STARTTLS (STLS) refused by {@code limits.handshake-rate-per-ip}; the session ends. */
  public void handshakeRefused() {
    if (refusedHandshakes != null) {
      refusedHandshakes.increment();
    }
  }

  /**
   * Postern refused a handshake because the client offered ALPN protocols, none of them the
   * listener's (a cross-protocol attempt such as ALPACA, or a misconfigured client).
   */
  public void handshakeRefusedAlpn() {
    if (refusedAlpn != null) {
      refusedAlpn.increment();
    }
  }

  private static boolean isClosed(Throwable e) {
    for (Throwable t = e; t != null && t != t.getCause(); t = t.getCause()) {
      if (t instanceof java.nio.channels.ClosedChannelException) {
        return true;
      }
    }
    return false;
  }

  /** The listener accepts connections ({@code true}) or has stopped. */
  public void up(boolean accepting) {
    up.set(accepting ? 1 : 0);
  }

  private Counter handshakeCounter(String result, String version) {
    return Counter.builder("postern.tls.handshakes")
        .description("TLS handshakes with clients, implicit and STARTTLS")
        .tags("listener", listener, "result", result, "version", version)
        .register(registry);
  }
}
