package io.postern;

import io.postern.auth.AuthCache;
import io.postern.auth.Authenticator;
import io.postern.auth.HashingQueue;
import io.postern.auth.HttpAuthenticator;
import io.postern.auth.PasswdFileAuthenticator;
import io.postern.config.AuthConfig;
import io.postern.config.BackendConfig;
import io.postern.config.ConfigError;
import io.postern.config.ConfigException;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.config.TlsMode;
import io.postern.listener.DescriptorBudget;
import io.postern.listener.ListenerVerticle;
import io.postern.listener.SharedServices;
import io.postern.metrics.AdminServer;
import io.postern.metrics.PosternMeters;
import io.postern.metrics.Readiness;
import io.postern.net.ListenAddress;
import io.postern.net.SocketEnds;
import io.postern.tls.AlpnGuardCheck;
import io.postern.tls.BackendTls;
import io.postern.tls.CaReload;
import io.postern.tls.CertificatePair;
import io.postern.tls.CertificateReload;
import io.postern.tls.CurrentTls;
import io.postern.tls.ServerTls;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Postern inside a Vert.x instance: every listener deployed once per event loop. Used by
 * {@code main} and by tests that embed Postern.
 */
public final class PosternServer {

  private static final Logger LOG = LoggerFactory.getLogger(PosternServer.class);

  private final Vertx vertx;
  private final SharedServices shared;
  private final List<String> deployments;
  private AdminServer admin;
  private BackendHealth health;
  private CertificateReload certificateReload;
  private CaReload caReload;
  private Future<Void> stopped;

  private PosternServer(Vertx vertx, SharedServices shared, List<String> deployments) {
    this.vertx = vertx;
    this.shared = shared;
    this.deployments = deployments;
  }

  /** Everything loaded from the files the configuration names, ready to serve. */
  public record Resources(PosternConfig config, ServerTls tls,
      Map<String, ClientSSLOptions> backendTls, Authenticator authenticator, int users) {}

  /**
   * Reads and checks certificates, CA files and the auth source. Blocking: call from main or a
   * test thread, never an event loop. Every problem is reported with its configuration key.
   */
  public static Resources load(Vertx vertx, PosternConfig config, Authenticator authenticator)
      throws ConfigException {
    List<ConfigError> errors = new ArrayList<>();
    proxyProtocolSupport(config, errors);
    // Every connection may hold two descriptors: the configuration must fit the open-file limit.
    config = config.withLimits(DescriptorBudget.fit(config.limits(),
        DescriptorBudget.Usage.now(), errors));
    ServerTls tls = serverTls(vertx, config, errors);
    Map<String, ClientSSLOptions> backendTls = new HashMap<>();
    for (BackendConfig backend : config.backends().values()) {
      try {
        backendTls.put(backend.name(),
            BackendTls.options(backend, config.limits().backendLoginTimeout()));
      } catch (CertificatePair.CertificateProblem e) {
        errors.add(new ConfigError("backends." + backend.name() + ".ca", e.getMessage()));
      }
    }
    int users = -1;
    if (authenticator == null && errors.isEmpty()) {
      authenticator = authenticator(vertx, config, errors);
      if (authenticator instanceof PasswdFileAuthenticator passwd) {
        users = passwd.users();
      }
    }
    if (!errors.isEmpty()) {
      if (authenticator != null) {
        authenticator.close();
      }
      throw new ConfigException(errors);
    }
    return new Resources(config, tls, backendTls, authenticator, users);
  }

  /**
   * What the configuration allows but should not: hashing limits the heap or the passwd-file's
   * hashes cannot afford. With {@code measure}, each kind of hash is timed once (blocking, up to
   * a second or so per kind).
   */
  public static List<ConfigError> warnings(Resources resources, boolean measure) {
    List<ConfigError> warnings = new ArrayList<>();
    if (resources.authenticator() instanceof PasswdFileAuthenticator passwd) {
      AuthConfig auth = resources.config().auth();
      HashingQueue.heapProblem(auth.hashing(), Runtime.getRuntime().maxMemory())
          .ifPresent(p -> warnings.add(new ConfigError("auth.hashing.max-memory", p)));
      warnings.addAll(passwd.costProblems(auth, measure));
    }
    return warnings;
  }

  /**
   * Deploys every listener, then the admin endpoint; fails with a message naming the listener
   * (or the admin endpoint) that could not bind.
   */
  public static Future<PosternServer> start(Vertx vertx, Resources resources, int instances,
      PosternMeters meters) {
    if (resources.authenticator() instanceof HttpAuthenticator http) {
      http.urls().forEach(url ->
          meters.authServiceUp(HttpAuthenticator.where(url), () -> http.up(url)));
    }
    Authenticator cached = new AuthCache(resources.authenticator(),
        resources.config().auth().cache(), new AuthCache.Counters(meters::authCacheHit,
        meters::authCacheMiss, meters::authAnswered));
    SharedServices shared = new SharedServices(vertx, resources.config(), resources.tls(),
        resources.backendTls(), cached, meters);
    List<String> deployments = new ArrayList<>();
    CurrentTls tls = shared.tls();
    if (tls != null) {
      // The expiry gauges follow every certificate put in use (a reload, a config reload).
      servedCertificates(meters, tls.get());
      tls.follow("expiry gauges", next -> {
        servedCertificates(meters, next);
        return Future.succeededFuture();
      });
    }
    // Half-close reaches into Vert.x's internals; if they changed, say so now, not per client.
    Future<Void> chain = SocketEnds.check(vertx);
    if (resources.tls() != null) {
      // So does the ALPN check (cross-protocol clients): prove it refuses, or do not start.
      chain = chain.compose(v -> AlpnGuardCheck.check(vertx, resources.tls()));
    }
    List<ListenerConfig> listeners = resources.config().listeners();
    for (int i = 0; i < listeners.size(); i++) {
      ListenerConfig listener = listeners.get(i);
      int index = i;
      // The first instance binds alone, so that the others find it bound when they listen (see
      // SharedServerTls: they must adopt its TLS context before their first connection).
      chain = chain.compose(v -> deploy(vertx, shared, listener, 1, deployments)
          .compose(x -> instances > 1
              ? deploy(vertx, shared, listener, instances - 1, deployments)
              : Future.succeededFuture())
          .recover(e -> Future.failedFuture(BindProblem.explain(listener, index, e))));
    }
    PosternServer server = new PosternServer(vertx, shared, deployments);
    shared.started();
    server.health = BackendHealth.start(vertx, shared);
    if (tls != null) {
      server.certificateReload = CertificateReload.start(vertx, tls,
          resources.config().tls().watchInterval(), meters);
    }
    server.caReload = CaReload.start(vertx, resources.config().backends().values(),
        resources.backendTls(), resources.config().limits().backendLoginTimeout(),
        resources.config().tls().watchInterval(), shared.backends()::useTls, meters::tlsReload);
    return chain.compose(v -> server.startAdmin())
        .map(v -> server)
        .recover(e -> server.stop().transform(x -> Future.failedFuture(e)));
  }

  private Future<Void> startAdmin() {
    PosternConfig config = shared.config();
    Readiness readiness = new Readiness(vertx, config,
        () -> config.listeners().stream().map(ListenerConfig::name)
            .filter(name -> !shared.boundPorts().containsKey(name)).toList(),
        shared.shutdown()::stopping, shared.authenticator()::ready,
        shared.authenticator().source(), BackendHealth.states(shared.backends()));
    return AdminServer.start(vertx, config.admin().port(),
            ListenAddress.host(config.admin().address()), shared.meters(), readiness)
        .andThen(ar -> {
          if (ar.failed()) {
            readiness.close();
          }
        })
        .recover(e -> Future.failedFuture(BindProblem.explainAdmin(config.admin(), e)))
        .map(started -> {
          admin = started;
          return null;
        });
  }

  /** The admin endpoint's port (useful when the configuration says 0). */
  public int adminPort() {
    return admin.port();
  }

  private static Future<Void> deploy(Vertx vertx, SharedServices shared, ListenerConfig listener,
      int instances, List<String> deployments) {
    return vertx.deployVerticle(() -> new ListenerVerticle(shared, listener),
            new DeploymentOptions().setInstances(instances))
        .map(id -> {
          deployments.add(id);
          return null;
        });
  }

  /** What the backends' health checks learned they offer; what clients see before login. */
  public io.postern.backend.BackendCapabilities capabilities() {
    return shared.backends().capabilities();
  }

  /** The port a listener is bound to (useful when the configuration says 0). */
  public int port(String listener) {
    Integer port = shared.boundPorts().get(listener);
    if (port == null) {
      throw new IllegalArgumentException("no listener named " + listener);
    }
    return port;
  }

  public SharedServices shared() {
    return shared;
  }

  /**
   * Stops accepting, says goodbye to sessions before login, lets relays finish for a while. Later
   * calls return the same future.
   */
  public synchronized Future<Void> stop() {
    if (stopped != null) {
      return stopped;
    }
    shared.shutdown().begin();
    if (certificateReload != null) {
      certificateReload.stop();
    }
    if (caReload != null) {
      caReload.stop();
    }
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : deployments) {
      undeployed.add(vertx.undeploy(id));
    }
    // The admin endpoint goes last: during the grace period /health/ready answers "stopping".
    stopped = Future.join(undeployed)
        .eventually(() -> admin == null ? Future.succeededFuture() : admin.close())
        .eventually(() -> shared.authenticator().close())
        .eventually(() -> health == null ? Future.succeededFuture() : health.stop())
        .andThen(ar -> shared.stopped())
        .mapEmpty();
    return stopped;
  }

  private static void servedCertificates(PosternMeters meters, ServerTls tls) {
    Map<String, Instant> notAfter = new HashMap<>();
    tls.certificates().forEach(p -> notAfter.put(p.files().cert().toString(), p.notAfter()));
    meters.certificatesServed(notAfter);
  }

  /** The backends' CA file watcher, or null when no backend names a CA file. */
  public CaReload caReload() {
    return caReload;
  }

  /** The certificate watcher, or null when no listener uses TLS. */
  public CertificateReload certificateReload() {
    return certificateReload;
  }

  /**
   * Without netty-codec-haproxy Vert.x only logs a warning and hands the PROXY header to the
   * session as data; refuse to start instead.
   */
  private static void proxyProtocolSupport(PosternConfig config, List<ConfigError> errors) {
    for (int i = 0; i < config.listeners().size(); i++) {
      if (config.listeners().get(i).proxyProtocol()) {
        try {
          Class.forName("io.netty.handler.codec.haproxy.HAProxyMessageDecoder");
        } catch (ClassNotFoundException e) {
          errors.add(new ConfigError("listeners[" + i + "].proxy-protocol", "needs"
              + " netty-codec-haproxy on the class path, which this build lacks"));
        }
      }
    }
  }

  private static ServerTls serverTls(Vertx vertx, PosternConfig config, List<ConfigError> errors) {
    boolean needed = config.listeners().stream().anyMatch(l -> l.tls() != TlsMode.NONE);
    if (!needed) {
      return null;
    }
    for (int i = 0; i < config.tls().certificates().size(); i++) {
      try {
        CertificatePair pair = ServerTls.check(vertx, config.tls().certificates().get(i));
        pair.expiryProblem(Instant.now()).ifPresent(p -> LOG.warn("tls: {}", p));
      } catch (CertificatePair.CertificateProblem e) {
        errors.add(new ConfigError("tls.certificates[" + i + "]", e.getMessage()));
      }
    }
    if (!errors.isEmpty()) {
      return null;
    }
    try {
      return ServerTls.load(vertx, config.tls(), config.limits().handshakeTimeout());
    } catch (CertificatePair.CertificateProblem e) {
      errors.add(new ConfigError("tls", e.getMessage()));
      return null;
    }
  }

  private static Authenticator authenticator(Vertx vertx, PosternConfig config,
      List<ConfigError> errors) {
    if (config.auth().source() == AuthConfig.Source.HTTP) {
      try {
        return HttpAuthenticator.create(vertx, config.auth().http(), config.backends().keySet());
      } catch (CertificatePair.CertificateProblem e) {
        errors.add(new ConfigError("auth.http.ca", e.getMessage()));
        return null;
      }
    }
    try {
      return PasswdFileAuthenticator.load(vertx, config.auth().passwdFile(),
          config.backends().keySet(), new HashingQueue(vertx, config.auth().hashing(),
              config.limits()::isTrusted)).await();
    } catch (Exception e) {
      errors.add(new ConfigError("auth.passwd-file", e.getMessage()));
      return null;
    }
  }
}
