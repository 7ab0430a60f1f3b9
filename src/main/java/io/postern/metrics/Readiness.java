package io.postern.metrics;

import io.postern.config.BackendConfig;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Whether Postern can serve a login right now: every listener bound and not stopping, the auth
 * source answering, and at least one backend accepting connections on every protocol Postern
 * listens for. Backends are probed with a TCP connect; answers are reused for a second so that
 * a busy prober cannot turn Postern into a connection flood against its own backends.
 */
public final class Readiness {

  /** What {@code /health/ready} answers; {@code body} names whatever is not ready. */
  public record Report(boolean ready, JsonObject body) {}

  static final Duration REUSE = Duration.ofSeconds(1);
  private static final Duration MAX_PROBE = Duration.ofSeconds(2);

  private final PosternConfig config;
  private final Supplier<List<String>> unboundListeners;
  private final BooleanSupplier stopping;
  private final Supplier<Future<Void>> authCheck;
  private final String authSource;
  private final NetClient probes;
  private final Duration probeTimeout;
  private final Set<Protocol> protocols = EnumSet.noneOf(Protocol.class);
  private Future<Report> last;
  private long lastAt;

  public Readiness(Vertx vertx, PosternConfig config, Supplier<List<String>> unboundListeners,
      BooleanSupplier stopping, Supplier<Future<Void>> authCheck, String authSource) {
    this.config = config;
    this.unboundListeners = unboundListeners;
    this.stopping = stopping;
    this.authCheck = authCheck;
    this.authSource = authSource;
    config.listeners().forEach(l -> protocols.add(l.protocol()));
    this.probeTimeout = config.limits().backendConnectTimeout().compareTo(MAX_PROBE) < 0
        ? config.limits().backendConnectTimeout() : MAX_PROBE;
    this.probes = vertx.createNetClient(new NetClientOptions()
        .setConnectTimeout((int) probeTimeout.toMillis()));
  }

  /** Runs on the admin server's event loop only, so the reuse window needs no lock. */
  public Future<Report> check() {
    if (stopping.getAsBoolean()) {
      // Say so at once, without probing: a load balancer must stop sending new clients, and may
      // ask often while it drains.
      JsonObject listeners = new JsonObject();
      config.listeners().forEach(l -> listeners.put(l.name(), "stopping"));
      return Future.succeededFuture(new Report(false, new JsonObject().put("status", "not ready")
          .put("listeners", listeners).put("problems", List.of("Postern is stopping"))));
    }
    long now = System.nanoTime();
    if (last != null && (!last.isComplete() || now - lastAt < REUSE.toNanos())) {
      return last;
    }
    lastAt = now;
    last = probe();
    return last;
  }

  public Future<Void> close() {
    return probes.close();
  }

  private Future<Report> probe() {
    List<String> problems = new ArrayList<>();
    JsonObject body = new JsonObject();
    List<String> unbound = unboundListeners.get();
    JsonObject listeners = new JsonObject();
    config.listeners().forEach(l -> listeners.put(l.name(),
        unbound.contains(l.name()) ? "not bound" : "bound"));
    unbound.forEach(name -> problems.add("listener " + name + " is not bound"));
    body.put("listeners", listeners);
    JsonObject backends = new JsonObject();
    Map<Protocol, List<Future<Void>>> connects = new EnumMap<>(Protocol.class);
    List<Future<Void>> all = new ArrayList<>();
    for (BackendConfig backend : config.backends().values()) {
      JsonObject endpoints = new JsonObject();
      backends.put(backend.name(), endpoints);
      for (Protocol protocol : protocols) {
        BackendConfig.Endpoint endpoint = backend.endpoint(protocol);
        String where = backend.host() + ":" + endpoint.port();
        Future<Void> connect = probes.connect(endpoint.port(), backend.host())
            .compose(socket -> socket.close())
            .andThen(ar -> endpoints.put(protocol.id(), ar.succeeded() ? "up " + where
                : "down " + where + ": " + reason(ar.cause())));
        connects.computeIfAbsent(protocol, p -> new ArrayList<>()).add(connect);
        all.add(connect);
      }
    }
    body.put("backends", backends);
    // An auth source that never answers must not hold every readiness answer with it.
    Future<Void> auth = authCheck.get().timeout(probeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    return Future.join(Future.join(all), auth).transform(ignored -> {
      // Each protocol Postern serves needs one backend that takes its connections.
      connects.forEach((protocol, probes) -> {
        if (probes.stream().noneMatch(Future::succeeded)) {
          problems.add("no backend is reachable for " + protocol.id());
        }
      });
      body.put("auth", new JsonObject().put("source", authSource)
          .put("status", auth.succeeded() ? "up" : "down: " + reason(auth.cause())));
      if (auth.failed()) {
        problems.add("auth source " + authSource + " is not answering");
      }
      body.put("status", problems.isEmpty() ? "ready" : "not ready");
      if (!problems.isEmpty()) {
        body.put("problems", problems);
      }
      return Future.succeededFuture(new Report(problems.isEmpty(), body));
    });
  }

  private static String reason(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return m == null ? root.getClass().getSimpleName() : m.length() > 120 ? m.substring(0, 120) : m;
  }
}
