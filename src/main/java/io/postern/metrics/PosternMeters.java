package io.postern.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.postern.config.BackendConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.prometheus.metrics.core.metrics.Info;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Every meter Postern exports (DESIGN.md §6), registered up front with every label value it can
 * take, so that each series exists from the first scrape and {@code rate()} sees its first
 * increase. Label values come from configuration and fixed vocabularies only: never a user name,
 * a password or an address.
 */
public final class PosternMeters {

  /** Auth lookups: a fast cache hit to a slow HTTP service. */
  static final Duration[] AUTH_BUCKETS = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25, 0.5, 1, 2.5, 5, 10);
  /** TCP connect plus, for implicit TLS, the handshake: loopback to a distant site. */
  static final Duration[] CONNECT_BUCKETS = seconds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10);
  /** Logged-in sessions: a POP3 download takes seconds, an IMAP IDLE client stays for hours. */
  static final Duration[] SESSION_BUCKETS = seconds(1, 5, 15, 30, 60, 300, 900, 1800, 3600,
      7200, 14400, 28800, 86400);

  private final PrometheusMeterRegistry registry;
  private final String authSource;
  private final Map<String, ListenerMeters> listeners = new ConcurrentHashMap<>();
  private final Map<Protocol, ProtocolMeters> protocols = new EnumMap<>(Protocol.class);
  private final Map<String, BackendMeters> backends = new ConcurrentHashMap<>();
  private final Timer authDuration;
  private final Counter authErrors;
  private final Counter cacheHits;
  private final Counter cacheMisses;
  /** The auth service URLs' gauges; guarded by this. */
  private final List<Gauge> authServices = new ArrayList<>();
  private final AtomicLong lastReloadOk =
      new AtomicLong(1);
  private final AtomicLong lastReloadAt =
      new AtomicLong(System.currentTimeMillis() / 1000);
  private final Counter tlsReloadsApplied;
  private final Counter tlsReloadsRefused;
  /** Expiry of each certificate file served, by file; the gauges read these. */
  private final Map<String, AtomicLong> expiries = new ConcurrentHashMap<>();
  private final Map<String, Gauge> expiryGauges = new ConcurrentHashMap<>();
  private final Counter throttleStoreErrors;
  /** {@code postern_throttle_store_up}, while a shared store is configured; guarded by this. */
  private Gauge throttleStoreUp;

  /** Meters for this configuration, on {@code registry} (shared with Vert.x's own meters). */
  public PosternMeters(PrometheusMeterRegistry registry, PosternConfig config, String authSource,
      String version) {
    this.registry = registry;
    this.authSource = authSource;
    for (ListenerConfig listener : config.listeners()) {
      listeners.put(listener.name(), new ListenerMeters(registry, listener,
          config.tls().protocols()));
    }
    for (Protocol protocol : Protocol.values()) {
      protocols.put(protocol, new ProtocolMeters(registry, protocol));
    }
    for (BackendConfig backend : config.backends().values()) {
      backends.put(backend.name(), new BackendMeters(registry, backend.name()));
    }
    authDuration = Timer.builder("postern.auth.duration")
        .description("Time the auth source took to answer a login")
        .tag("source", authSource)
        .serviceLevelObjectives(AUTH_BUCKETS)
        .register(registry);
    authErrors = Counter.builder("postern.auth.errors")
        .description("Logins the auth source could not answer (down, timed out, bad answer)")
        .tag("source", authSource)
        .register(registry);
    Gauge.builder("postern.config.last.reload.successful", lastReloadOk, AtomicLong::get)
        .description("1 if the last configuration reload was applied (or none was tried), 0 if"
            + " it was refused and the previous configuration still runs")
        .register(registry);
    Gauge.builder("postern.config.last.reload.success.timestamp", lastReloadAt, AtomicLong::get)
        .description("When the running configuration was loaded (Unix time)")
        .baseUnit("seconds")
        .register(registry);
    throttleStoreErrors = Counter.builder("postern.throttle.store.errors")
        .description("Calls to the shared throttle store (auth.throttle.store: redis) that"
            + " failed or timed out, and checks of it while down")
        .register(registry);
    cacheHits = cacheCounter(registry, "hit");
    cacheMisses = cacheCounter(registry, "miss");
    tlsReloadsApplied = tlsReloadCounter(registry, "applied");
    tlsReloadsRefused = tlsReloadCounter(registry, "refused");
    Info.builder()
        .name("postern_build_info")
        .help("The running Postern version")
        .labelNames("version")
        .register(registry.getPrometheusRegistry())
        .setLabelValues(version);
  }

  /**
   * Meters for what a reloaded configuration adds: its new listeners' (a removed listener's
   * series stay, with {@code up} 0) and its new backends'.
   */
  public void configure(PosternConfig config) {
    for (ListenerConfig listener : config.listeners()) {
      listeners.computeIfAbsent(listener.name(), n -> new ListenerMeters(registry, listener,
          config.tls().protocols()));
    }
    for (BackendConfig backend : config.backends().values()) {
      backend(backend.name());
    }
  }

  /**
   * A configuration reload (SIGHUP, the admin API) was applied or refused: counted, and
   * {@code postern_config_last_reload_successful} says how the last one went, as Prometheus's
   * own {@code prometheus_config_last_reload_successful} does.
   */
  public void configReload(boolean applied) {
    Counter.builder("postern.config.reloads")
        .description("Configuration reloads (SIGHUP, POST /api/reload), applied or refused")
        .tag("result", applied ? "applied" : "refused")
        .register(registry)
        .increment();
    lastReloadOk.set(applied ? 1 : 0);
    if (applied) {
      lastReloadAt.set(System.currentTimeMillis() / 1000);
    }
  }

  /** A master login ({@code customer*master}) ended: {@code success} or {@code failure}. */
  public void masterLogin(boolean success) {
    Counter.builder("postern.master.logins")
        .description("Master logins (customer*master), by result")
        .tag("result", success ? "success" : "failure")
        .register(registry)
        .increment();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public ListenerMeters listener(String name) {
    ListenerMeters meters = listeners.get(name);
    if (meters == null) {
      throw new IllegalArgumentException("no listener named " + name);
    }
    return meters;
  }

  public ProtocolMeters protocol(Protocol protocol) {
    return protocols.get(protocol);
  }

  /**
   * Meters of a backend. Routes reach only configured backends (checked before connecting), so
   * this adds no series in practice; it is lenient so that a metric can never fail a login.
   */
  public BackendMeters backend(String name) {
    return backends.computeIfAbsent(name, n -> new BackendMeters(registry, n));
  }

  public String authSource() {
    return authSource;
  }

  public void authError() {
    authErrors.increment();
  }

  /** An auth lookup found its answer in the cache. */
  public void authCacheHit() {
    cacheHits.increment();
  }

  /** An auth lookup had to ask the source. */
  public void authCacheMiss() {
    cacheMisses.increment();
  }

  /** The auth source answered after {@code nanos}. */
  public void authAnswered(long nanos) {
    authDuration.record(Duration.ofNanos(nanos));
  }

  private static Counter cacheCounter(PrometheusMeterRegistry registry, String result) {
    return Counter.builder("postern.auth.cache")
        .description("Auth cache lookups by result")
        .tag("result", result)
        .register(registry);
  }

  /**
   * When the served certificate in file {@code certificate} expires, so alerts fire long before
   * clients see an error. A reload calls this again with the new certificate's date.
   */
  public void certificateExpiry(String certificate, Instant notAfter) {
    AtomicLong expires = expiries.computeIfAbsent(certificate, c -> new AtomicLong());
    expires.set(notAfter.getEpochSecond());
    expiryGauges.computeIfAbsent(certificate, c ->
        Gauge.builder("postern.tls.certificate.expiry.timestamp", expires, AtomicLong::get)
            .description("When the certificate stops being valid (Unix time)")
            .baseUnit("seconds")
            .tag("certificate", c)
            .strongReference(true)
            .register(registry));
  }

  /**
   * The certificates served now, by file: their expiry gauges are set, and those of files no
   * longer served (after a configuration reload) are removed.
   */
  public void certificatesServed(Map<String, Instant> notAfter) {
    notAfter.forEach(this::certificateExpiry);
    for (String file : List.copyOf(expiryGauges.keySet())) {
      if (!notAfter.containsKey(file)) {
        registry.remove(expiryGauges.remove(file));
        expiries.remove(file);
      }
    }
  }

  /** A certificate reload put new certificates in use ({@code applied}) or kept the old. */
  public void tlsReload(boolean applied) {
    (applied ? tlsReloadsApplied : tlsReloadsRefused).increment();
  }

  private static Counter tlsReloadCounter(PrometheusMeterRegistry registry, String result) {
    return Counter.builder("postern.tls.reloads")
        .description("Certificate reloads: new certificates applied, or refused and the old kept")
        .tag("result", result)
        .register(registry);
  }

  /**
   * Whether the auth service at {@code url} (as configured, without query) is up: 1, or 0 while
   * logins skip it after a failure.
   */
  public synchronized void authServicesUp(Map<String, BooleanSupplier> up) {
    // A reload may bring other URLs: the previous source's series go, its gauges would keep
    // reading the source it replaced.
    authServices.forEach(registry::remove);
    authServices.clear();
    up.forEach((url, isUp) -> authServices.add(
        Gauge.builder("postern.auth.service.up", () -> isUp.getAsBoolean() ? 1 : 0)
            .description("Whether logins ask this auth service URL (0: skipped after a failure)")
            .tag("url", url)
            .register(registry)));
  }

  /** A call to the shared throttle store failed or timed out. */
  public void throttleStoreError() {
    throttleStoreErrors.increment();
  }

  /**
   * Whether the shared throttle store answers ({@code postern_throttle_store_up} 1, or 0 while
   * logins go on with each instance's own penalty); null when there is none (the series goes).
   */
  public synchronized void throttleStoreUp(BooleanSupplier up) {
    if (throttleStoreUp != null) {
      registry.remove(throttleStoreUp);
      throttleStoreUp = null;
    }
    if (up != null) {
      throttleStoreUp = Gauge.builder("postern.throttle.store.up", () -> up.getAsBoolean() ? 1 : 0)
          .description("Whether the shared throttle store (auth.throttle.store: redis) answers;"
              + " 0: each instance applies its own penalty alone")
          .register(registry);
    }
  }

  /** The Prometheus text format, or OpenMetrics when {@code accept} asks for it. */
  public String scrape(String accept) {
    return registry.scrape(contentType(accept));
  }

  /** The content type {@link #scrape} produced for {@code accept}. */
  public static String contentType(String accept) {
    return accept != null && accept.contains("application/openmetrics-text")
        ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
        : "text/plain; version=0.0.4; charset=utf-8";
  }

  /** A client-chosen mechanism name as a label: one of a fixed few, never the raw string. */
  static String mechanism(String name) {
    String lower = name == null ? "" : name.toLowerCase(Locale.ROOT);
    return switch (lower) {
      case "login", "plain", "user", "xoauth2", "oauthbearer" -> lower;
      default -> "other";
    };
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofNanos(Math.round(values[i] * 1e9));
    }
    return out;
  }
}
