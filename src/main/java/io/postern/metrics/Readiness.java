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
 * source answering, and every backend with a live server for every protocol Postern listens
 * for. Servers with health checks are as the checks last saw them; others are probed with a
 * TCP connect, and answers are reused for a second so that a busy prober cannot turn Postern
 * into a connection flood against its own backends.
 */
public final class Readiness {

  /** What {@code /health/ready} answers; {@code body} names whatever is not ready. */
  public record Report(boolean ready, JsonObject body) {}

  /** A checked server as its health checks left it; {@code problem} is why it is down. */
  public record ServerState(boolean up, String problem) {}

  /**
   * The servers of a backend with health checks, in the configured order; null for a backend
   * without them.
   */
  @FunctionalInterface
  public interface BackendStates {
    List<ServerState> states(String backend, Protocol protocol);

    /**
     * Whether an operator drained server {@code index} of {@code backend}: it takes no new
     * logins, so it counts as not live, and is not probed.
     */
    default boolean drained(String backend, int index) {
      return false;
    }
  }

  static final Duration REUSE = Duration.ofSeconds(1);
  private static final Duration MAX_PROBE = Duration.ofSeconds(2);

  private final PosternConfig config;
  private final Supplier<List<String>> unboundListeners;
  private final BooleanSupplier stopping;
  private final Supplier<Future<Void>> authCheck;
  private final String authSource;
  private final BackendStates states;
  private final NetClient probes;
  private final Duration probeTimeout;
  private final Set<Protocol> protocols = EnumSet.noneOf(Protocol.class);
  private Future<Report> last;
  private long lastAt;

  public Readiness(Vertx vertx, PosternConfig config, Supplier<List<String>> unboundListeners,
      BooleanSupplier stopping, Supplier<Future<Void>> authCheck, String authSource,
      BackendStates states) {
    this.states = states;
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
    List<Future<Void>> all = new ArrayList<>();
    for (BackendConfig backend : config.backends().values()) {
      JsonObject byProtocol = new JsonObject();
      backends.put(backend.name(), byProtocol);
      for (Protocol protocol : protocols) {
        List<Future<Void>> servers = servers(backend, protocol, byProtocol);
        all.addAll(servers);
        // Ready while every pool has a live server for every protocol Postern serves.
        all.add(Future.join(servers).transform(ignored -> {
          if (servers.stream().noneMatch(Future::succeeded)) {
            problems.add("backend " + backend.name() + " has no live server for "
                + protocol.id());
          }
          return Future.succeededFuture();
        }));
      }
    }
    body.put("backends", backends);
    // An auth source that never answers must not hold every readiness answer with it.
    Future<Void> auth = authCheck.get().timeout(probeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    return Future.join(Future.join(all), auth).transform(ignored -> {
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

  /**
   * Each server's state for {@code protocol}, one succeeded or failed future per server, written
   * into {@code out}: the server's state as a string for a backend of one server, an object of
   * server names to states for a pool. Checked servers are as their last checks left them;
   * others are tried with a TCP connect.
   */
  private List<Future<Void>> servers(BackendConfig backend, Protocol protocol, JsonObject out) {
    List<ServerState> checked = states.states(backend.name(), protocol);
    List<Future<Void>> results = new ArrayList<>();
    JsonObject pool = new JsonObject();
    BackendConfig.Endpoint endpoint = backend.endpoint(protocol);
    for (int i = 0; i < backend.servers().size(); i++) {
      BackendConfig.Server server = backend.servers().get(i);
      String where = server.host() + ":" + server.port(protocol, endpoint);
      Future<Void> result;
      boolean drained = states.drained(backend.name(), i);
      if (drained) {
        result = Future.failedFuture("drained");
      } else if (checked != null) {
        ServerState state = checked.get(i);
        result = state.up() ? Future.succeededFuture()
            : Future.failedFuture(state.problem() == null ? "down" : state.problem());
      } else {
        result = probes.connect(server.port(protocol, endpoint), server.host())
            .compose(socket -> socket.close());
      }
      results.add(result.andThen(ar -> {
        String text = ar.succeeded() ? "up " + where
            : drained ? "drained " + where : "down " + where + ": " + reason(ar.cause());
        if (backend.servers().size() == 1) {
          out.put(protocol.id(), text);
        } else {
          pool.put(server.name(), text);
        }
      }));
    }
    if (backend.servers().size() > 1) {
      out.put(protocol.id(), pool);
    }
    return results;
  }

  private static String reason(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return m == null ? root.getClass().getSimpleName() : m.length() > 240 ? m.substring(0, 240) : m;
  }
}
