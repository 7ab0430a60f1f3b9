package io.postern.backend;

import io.postern.config.BackendConfig;
import io.postern.config.BackendConfig.Balance;
import io.postern.config.BackendConfig.Server;
import io.postern.config.Protocol;
import io.vertx.core.net.ClientSSLOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The servers of one named backend and their state: health per server and protocol, and the
 * sessions each holds. It answers one question per login: which servers, in which order.
 * Thread-safe; shared by every event loop.
 */
public final class BackendPool {

  /**
   * Servers one login may try: the user's own and three more. Each failed try has cost a
   * refused connect at least, and a login that four servers could not take is a wider outage
   * than failover can hide.
   */
  static final int MAX_TRIES = 4;

  private final BackendConfig config;
  /** Replaced when the backend's CA file changes (new connections only). */
  private volatile ClientSSLOptions sslOptions;
  private final HashRing ring;
  private final Map<Protocol, ServerHealth[]> health = new EnumMap<>(Protocol.class);
  private final AtomicInteger[] sessions;
  /** Servers an operator drained: no new logins, like a down server, whatever their checks say. */
  private final AtomicBoolean[] drained;

  public BackendPool(BackendConfig config, ClientSSLOptions sslOptions) {
    this.config = config;
    this.sslOptions = sslOptions;
    List<Server> servers = config.servers();
    this.ring = new HashRing(servers.stream().map(Server::name).toList(),
        servers.stream().map(Server::weight).toList());
    for (Protocol protocol : Protocol.values()) {
      ServerHealth[] states = new ServerHealth[servers.size()];
      Arrays.setAll(states, i -> new ServerHealth(config.healthCheck()));
      health.put(protocol, states);
    }
    sessions = new AtomicInteger[servers.size()];
    Arrays.setAll(sessions, i -> new AtomicInteger());
    drained = new AtomicBoolean[servers.size()];
    Arrays.setAll(drained, i -> new AtomicBoolean());
  }

  /**
   * Takes over from {@code previous} (the same backend before a reload) what belongs to a server
   * that is still the same one (name, host and ports): the count of its sessions in progress,
   * which those sessions give back when they end, and, with the same health-check settings, its
   * health. Least-connections then still sees the sessions that began before the reload.
   */
  void inherit(BackendPool previous) {
    for (int i = 0; i < size(); i++) {
      Server now = server(i);
      for (int j = 0; j < previous.size(); j++) {
        Server was = previous.server(j);
        if (now.name().equals(was.name()) && now.host().equals(was.host())
            && java.util.Objects.equals(now.imapPort(), was.imapPort())
            && java.util.Objects.equals(now.pop3Port(), was.pop3Port())) {
          sessions[i] = previous.sessions[j];
          if (config.healthCheck().equals(previous.config.healthCheck())) {
            for (Protocol protocol : Protocol.values()) {
              health.get(protocol)[i] = previous.health.get(protocol)[j];
            }
          }
        }
      }
    }
  }

  /** TLS towards this backend's servers from now on: a reloaded CA file. */
  public void useTls(ClientSSLOptions options) {
    sslOptions = options;
  }

  public BackendConfig config() {
    return config;
  }

  public String name() {
    return config.name();
  }

  public int size() {
    return config.servers().size();
  }

  public Server server(int index) {
    return config.servers().get(index);
  }

  public ServerHealth health(int server, Protocol protocol) {
    return health.get(protocol)[server];
  }

  /** Sessions relaying through {@code server} now, both protocols. */
  public int sessions(int server) {
    return sessions[server].get();
  }

  /** Whether an operator drained {@code server}: it gets no new logins until undrained. */
  public boolean drained(int server) {
    return drained[server].get();
  }

  /** Drains or undrains {@code server}; true if that changed its state. */
  public boolean drain(int server, boolean drain) {
    return drained[server].getAndSet(drain) != drain;
  }

  /** Whether {@code server} may get a new login for {@code protocol}: up and not drained. */
  public boolean usable(int server, Protocol protocol) {
    return !drained[server].get() && health.get(protocol)[server].up();
  }

  /** True while at least one server takes logins for {@code protocol}. */
  public boolean anyUp(Protocol protocol) {
    for (int i = 0; i < size(); i++) {
      if (usable(i, protocol)) {
        return true;
      }
    }
    return false;
  }

  /** Server {@code index} for {@code protocol}, as configured. */
  public BackendTarget target(int index, Protocol protocol) {
    Server server = server(index);
    BackendConfig.Endpoint endpoint = config.endpoint(protocol);
    return new BackendTarget(config.name(), server.name(), server.host(),
        server.port(protocol, endpoint), endpoint.tls(), sslOptions, config.clientIp());
  }

  /**
   * Where {@code user} may log in, best first: up to {@link #MAX_TRIES} live servers in the
   * user's ring order, or by fewest sessions with {@code least-connections}; drained servers
   * are skipped as down ones are, so their users go to the next server of their ring. A route
   * that pins a host gets that one place. Empty when every server is down or drained.
   */
  public List<BackendTarget> candidates(Route route, Protocol protocol, String user) {
    if (route.host() != null || route.port() != null || route.tls() != null) {
      return List.of(pinned(route, protocol));
    }
    int[] order;
    if (config.balance() == Balance.LEAST_CONNECTIONS) {
      // A snapshot: other event loops change the counts while this one sorts.
      int[] now = new int[sessions.length];
      Arrays.setAll(now, i -> sessions[i].get());
      // Stable: servers with as many sessions keep the configured order between them.
      order = IntStream.range(0, size()).filter(i -> usable(i, protocol)).boxed()
          .sorted(Comparator.comparingInt(i -> now[i]))
          .limit(MAX_TRIES).mapToInt(Integer::intValue).toArray();
    } else {
      // Names are matched without case (passwd-file, Dovecot): so are they placed.
      order = ring.order(user.toLowerCase(Locale.ROOT), i -> usable(i, protocol), MAX_TRIES);
    }
    List<BackendTarget> out = new ArrayList<>(order.length);
    for (int index : order) {
      out.add(target(index, protocol));
    }
    return out;
  }

  /** The server a route names by host (passwd-file {@code host=}, {@code Auth-Server}). */
  private BackendTarget pinned(Route route, Protocol protocol) {
    BackendConfig.Endpoint endpoint = config.endpoint(protocol);
    String host = route.host() != null ? route.host() : config.host();
    int port = route.port() != null ? route.port() : endpoint.port();
    // A pool member by another route keeps its name, so its metrics and log lines match.
    String name = host;
    for (Server server : config.servers()) {
      if (server.host().equals(host) && server.port(protocol, endpoint) == port) {
        name = server.name();
      }
    }
    return new BackendTarget(config.name(), name, host, port,
        route.tls() != null ? route.tls() : endpoint.tls(), sslOptions, config.clientIp());
  }

  /** Index of the server named {@code name}, or -1 (a pinned host outside the pool). */
  public int indexOf(String name) {
    List<Server> servers = config.servers();
    for (int i = 0; i < servers.size(); i++) {
      if (servers.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** A session now relays through {@code target}'s server; run what is returned when it ends. */
  public Runnable opened(BackendTarget target) {
    int index = indexOf(target.server());
    if (index < 0) {
      return () -> { };
    }
    sessions[index].incrementAndGet();
    return () -> sessions[index].decrementAndGet();
  }
}
