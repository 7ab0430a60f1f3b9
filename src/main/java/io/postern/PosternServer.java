package io.postern;

import io.postern.admin.AdminActions;
import io.postern.admin.AdminApi;
import io.postern.admin.AdminToken;
import io.postern.auth.AuthCache;
import io.postern.auth.Authenticator;
import io.postern.auth.HashingQueue;
import io.postern.auth.HttpAuthenticator;
import io.postern.auth.MasterLogins;
import io.postern.auth.OAuth2Authenticator;
import io.postern.auth.LdapAuthenticator;
import io.postern.auth.PasswdFileAuthenticator;
import io.postern.backend.BackendPools;
import io.postern.backend.MasterPasswordFiles;
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
import io.postern.session.SessionDirectory;
import io.postern.tls.AlpnGuardCheck;
import io.postern.tls.BackendTls;
import io.postern.tls.CaReload;
import io.postern.tls.CertificatePair;
import io.postern.tls.ClientCa;
import io.postern.tls.CertificateReload;
import io.postern.tls.CurrentTls;
import io.postern.tls.ServerTls;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Postern inside a Vert.x instance: every listener deployed once per event loop. Used by
 * {@code main} and by tests that embed Postern.
 */
public final class PosternServer {

  private static final Logger LOG = LoggerFactory.getLogger(PosternServer.class);

  private final Vertx vertx;
  private final ListenerSet listeners;
  /** The configuration's services; a reload replaces them for new sessions. */
  private volatile SharedServices shared;
  /** What {@link #shared} was loaded from: a reload reuses the parts that did not change. */
  private volatile Resources resources;
  private AdminServer admin;
  private volatile BackendHealth health;
  private Future<Void> drained;
  private TlsWatch tlsWatch;
  private Future<Void> stopped;
  /** Auth sources a reload replaced, closed once no login can still be asking them. */
  private final List<Authenticator> retired = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** The live sessions the admin API lists and ends; null: this server's own. */
  private volatile SessionDirectory adminSessions;
  /** What POST /api/reload does: main sets it to reload the configuration file. */
  private volatile Supplier<Future<AdminActions.Reload>> adminReload = () ->
      Future.failedFuture(new UnsupportedOperationException("this Postern has no configuration"
          + " file to reload"));

  private PosternServer(Vertx vertx, SharedServices shared, Resources resources,
      ListenerSet listeners) {
    this.vertx = vertx;
    this.shared = shared;
    this.resources = resources;
    this.listeners = listeners;
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
    if (config.admin().tokenFile() != null) {
      AdminToken.check(config.admin().tokenFile())
          .ifPresent(p -> errors.add(new ConfigError("admin.token-file", p)));
    }
    Map<String, ClientSSLOptions> backendTls = new HashMap<>();
    for (BackendConfig backend : config.backends().values()) {
      try {
        backendTls.put(backend.name(),
            BackendTls.options(backend, config.limits().backendLoginTimeout()));
      } catch (CertificatePair.CertificateProblem e) {
        errors.add(new ConfigError("backends." + backend.name() + ".ca", e.getMessage()));
      }
    }
    // The backends' master passwords, read again at every load (a reload rotates them).
    config = MasterPasswordFiles.load(config, errors);
    int users = -1;
    boolean created = false;
    if (authenticator == null && errors.isEmpty()) {
      authenticator = authenticator(vertx, config, errors);
      created = authenticator != null;
      if (created && config.auth().master() != null) {
        authenticator = masterLogins(vertx, config, authenticator, errors);
      }
    }
    if (unwrapped(authenticator) instanceof PasswdFileAuthenticator passwd) {
      users = passwd.users();
    }
    if (!errors.isEmpty()) {
      // Only what this call made: a source passed in (a reload's running one) stays open.
      if (created) {
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
    AuthConfig auth = resources.config().auth();
    List<PasswdFileAuthenticator> files = new ArrayList<>();
    if (unwrapped(resources.authenticator()) instanceof PasswdFileAuthenticator passwd) {
      files.add(passwd);
    }
    if (resources.authenticator() instanceof MasterLogins master) {
      files.add(master.masters());
    }
    if (!files.isEmpty()) {
      long largest = files.stream().mapToLong(PasswdFileAuthenticator::largestCheckMemory).max()
          .orElse(0);
      HashingQueue.heapProblem(auth.hashing(), largest, Runtime.getRuntime().maxMemory())
          .ifPresent(p -> warnings.add(new ConfigError("auth.hashing.max-memory", p)));
    }
    for (PasswdFileAuthenticator passwd : files) {
      warnings.addAll(passwd.costProblems(auth, measure));
    }
    return warnings;
  }

  /** The configured source itself, without master users around it. */
  private static Authenticator unwrapped(Authenticator authenticator) {
    return authenticator instanceof MasterLogins master ? master.wrapped() : authenticator;
  }

  /**
   * {@code source} with master users around it ({@code auth.master}); on a problem, reported
   * under {@code auth.master.passwd-file}, {@code source} alone (which the caller closes).
   */
  private static Authenticator masterLogins(Vertx vertx, PosternConfig config,
      Authenticator source, List<ConfigError> errors) {
    try {
      return MasterLogins.load(vertx, config.auth().master(), source, config.backends(),
          config.auth().hashing(), config.limits()::isTrusted).await();
    } catch (Exception e) {
      errors.add(new ConfigError("auth.master.passwd-file", e.getMessage()));
      return source;
    }
  }

  /**
   * Deploys every listener, then the admin endpoint; fails with a message naming the listener
   * (or the admin endpoint) that could not bind.
   */
  public static Future<PosternServer> start(Vertx vertx, Resources resources, int instances,
      PosternMeters meters) {
    authServicesUp(meters, resources.authenticator());
    if (resources.authenticator() instanceof MasterLogins master) {
      master.backendMasters(resources.config().backends());
    }
    Authenticator cached = new AuthCache(resources.authenticator(),
        resources.config().auth().cache(), new AuthCache.Counters(meters::authCacheHit,
        meters::authCacheMiss, meters::authAnswered));
    SharedServices shared = new SharedServices(vertx, resources.config(), resources.tls(),
        resources.backendTls(), cached, meters);
    ListenerSet listenerSet = new ListenerSet(vertx, instances);
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
      chain = chain.compose(v -> listenerSet.start(shared, listener, index));
    }
    PosternServer server = new PosternServer(vertx, shared, resources, listenerSet);
    shared.started();
    server.health = BackendHealth.start(vertx, shared);
    server.tlsWatch = TlsWatch.start(vertx, resources, shared.tls(), shared.backends(), meters);
    return chain.compose(v -> server.startAdmin())
        .map(v -> server)
        .recover(e -> server.stop().transform(x -> Future.failedFuture(e)));
  }

  /** Readiness for the services of {@code services}' configuration. */
  private Readiness readiness(SharedServices services) {
    PosternConfig config = services.config();
    return new Readiness(vertx, config,
        () -> config.listeners().stream().map(ListenerConfig::name)
            .filter(name -> !services.boundPorts().containsKey(name)).toList(),
        services.shutdown()::stopping, services.authenticator()::ready,
        services.authenticator().source(), BackendHealth.states(services.backends()));
  }

  private Future<Void> startAdmin() {
    PosternConfig config = shared.config();
    Readiness readiness = readiness(shared);
    String address = config.admin().address();
    if (config.admin().tokenFile() == null && !(address.startsWith("127.")
        || address.equals("::1") || address.equals("localhost"))) {
      LOG.warn("admin: listening on {} without admin.token-file: anyone who reaches it can list"
          + " sessions (user names, client addresses); set a token file", address);
    }
    // Suppliers: a reload replaces the services (pools, limits, token file) the API acts on.
    AdminApi api = new AdminApi(vertx, new ServerAdminActions(() -> shared.backends(),
        this::adminSessions, () -> shared.config().limits().drainWindow(),
        () -> sessions().list(v -> true).map(all -> {
          drain(ServerAdminActions.DRAINED);
          return all.size();
        }),
        () -> adminReload.get()),
        new AdminToken(vertx, () -> shared.config().admin().tokenFile()));
    return AdminServer.start(vertx, config.admin().port(),
            ListenAddress.host(config.admin().address()), shared.meters(), readiness, api)
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

  /** Where the admin API finds live sessions instead of this server's own (tests). */
  public void sessionDirectory(SessionDirectory directory) {
    adminSessions = directory;
  }

  private SessionDirectory adminSessions() {
    SessionDirectory override = adminSessions;
    return override != null ? override : sessions();
  }

  /** What {@code POST /api/reload} does (main: reload the configuration file). */
  public void adminReload(Supplier<Future<AdminActions.Reload>> reload) {
    adminReload = reload;
  }

  /** The admin endpoint's port (useful when the configuration says 0). */
  public int adminPort() {
    return admin.port();
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

  /** Every live session, for the admin API and drains. */
  public io.postern.session.SessionDirectory sessions() {
    return shared.sessions();
  }

  /**
   * Stops accepting, says goodbye to sessions before login, and ends logged-in sessions spread
   * over {@code limits.drain-window} (each between two backend responses), all within {@code
   * limits.shutdown-grace}, after which what is left is cut; each session's line says {@code
   * result}. The admin endpoint stays, with {@code /health/ready} saying so. Later calls return
   * the same future.
   */
  public synchronized Future<Void> drain(String result) {
    if (drained == null) {
      shared.shutdown().begin();
      shared.sessions().end(session -> true, result, shared.config().limits().drainWindow());
      drained = listeners.stopAll(shared);
    }
    return drained;
  }

  /** Whether {@link #drain} (or {@link #stop}) has begun. */
  public boolean draining() {
    return shared.shutdown().stopping();
  }

  /**
   * Drains (as SIGTERM: {@code result=shutdown}), then closes the admin endpoint, the auth
   * sources and the health checks. Later calls return the same future.
   */
  public synchronized Future<Void> stop() {
    if (stopped != null) {
      return stopped;
    }
    if (tlsWatch != null) {
      tlsWatch.stop();
    }
    // The admin endpoint goes last: during the grace period /health/ready answers "stopping".
    stopped = drain("shutdown")
        .eventually(() -> admin == null ? Future.succeededFuture() : admin.close())
        .eventually(() -> shared.authenticator().close())
        .eventually(() -> Future.join(retired.stream().map(Authenticator::close).toList()))
        .eventually(() -> health == null ? Future.succeededFuture() : health.stop())
        .eventually(() -> shared.closeThrottleStore())
        .andThen(ar -> shared.stopped())
        .mapEmpty();
    return stopped;
  }

  /** The backends' CA file watcher. */
  public CaReload caReload() {
    return tlsWatch.cas();
  }

  /** The certificate watcher, or null when no listener uses TLS. */
  public CertificateReload certificateReload() {
    return tlsWatch.certificates();
  }

  /**
   * Applies {@code next} (loaded and checked by {@link #load}) to new sessions: listeners added,
   * removed or rebound, and new services for the kept ones; sessions already open keep theirs.
   * Parts of the configuration that did not change keep their running services (the auth
   * source and its cache, the backends' health, the TLS material). Completes with what changed.
   */
  public Future<List<String>> reload(Resources next) {
    List<String> changes = new ArrayList<>();
    return reload(next, changes).map(v -> changes);
  }

  /** As {@link #reload(Resources)}, saying what changed in {@code changes} as it goes. */
  public synchronized Future<Void> reload(Resources next, List<String> changes) {
    if (draining()) {
      return Future.failedFuture(new IllegalStateException("Postern is draining"));
    }
    Resources before = resources;
    SharedServices old = shared;
    PosternConfig config = next.config();
    boolean sameAuth = next.authenticator() == before.authenticator();
    Authenticator authenticator = sameAuth ? old.authenticator()
        : new AuthCache(next.authenticator(), config.auth().cache(), new AuthCache.Counters(
            old.meters()::authCacheHit, old.meters()::authCacheMiss, old.meters()::authAnswered));
    if (!sameAuth) {
      changes.add("auth source " + next.authenticator().source() + " loaded");
    }
    if (next.authenticator() instanceof MasterLogins master) {
      // A kept source keeps its master file; the backends' master users may have changed.
      master.backendMasters(config.backends());
    }
    boolean sameBackends = config.backends().equals(before.config().backends())
        && next.backendTls().equals(before.backendTls());
    BackendPools pools = sameBackends ? old.backends()
        : new BackendPools(config.backends().values(), next.backendTls())
            .carryOver(old.backends());
    if (!sameBackends) {
      changes.add("backends " + String.join(", ", config.backends().keySet()) + " loaded");
      pools.keepDrained(old.backends());
    }
    // Every listener follows the one holder: new certificates reach old listeners too.
    Future<Void> tlsChange = tlsWatch.reload(before, next, pools, !sameBackends, changes);
    CurrentTls tls = tlsWatch.tls();
    // max-connections: auto is fitted to the descriptors open at each load: not a change.
    if (!config.limits().withMaxConnections(0)
        .equals(before.config().limits().withMaxConnections(0))) {
      changes.add("limits changed");
    }
    old.meters().configure(config);
    SharedServices services = old.next(vertx, config, tls, pools, authenticator);
    resources = next;
    shared = services;
    if (!sameAuth) {
      // Only now that nothing new uses it: logins under way finish with it.
      authServicesUp(old.meters(), next.authenticator());
      retire(old.authenticator(), before.config());
    }
    Future<Void> healthChange = Future.succeededFuture();
    if (!sameBackends) {
      BackendHealth previous = health;
      healthChange = (previous == null ? Future.<Void>succeededFuture() : previous.stop())
          .andThen(ar -> health = BackendHealth.start(vertx, services));
    }
    return Future.join(healthChange, tlsChange).<Void>mapEmpty()
        .compose(v -> listeners.apply(services, sniChanged(before, next), changes))
        .eventually(() -> admin == null ? Future.succeededFuture()
            : admin.readiness(readiness(services)));
  }

  /** Whether SNI (several certificates) is switched on or off by {@code next}. */
  private static boolean sniChanged(Resources before, Resources next) {
    return before.tls() != null && next.tls() != null
        && before.tls().certificates().size() > 1 != next.tls().certificates().size() > 1;
  }

  /** {@code postern_auth_service_up} for each URL of an HTTP or LDAP source (none for others). */
  private static void authServicesUp(PosternMeters meters, Authenticator authenticator) {
    Map<String, java.util.function.BooleanSupplier> up = new java.util.LinkedHashMap<>();
    if (unwrapped(authenticator) instanceof HttpAuthenticator http) {
      http.urls().forEach(url -> up.put(HttpAuthenticator.where(url), () -> http.up(url)));
    }
    if (unwrapped(authenticator) instanceof LdapAuthenticator ldap) {
      ldap.urls().forEach(url -> up.put(url, () -> ldap.up(url)));
    }
    meters.authServicesUp(up);
  }

  /**
   * Closes a replaced auth source once no login can still be asking it: a session's login is
   * bounded by its pre-auth deadline.
   */
  private void retire(Authenticator authenticator, PosternConfig config) {
    retired.add(authenticator);
    long after = config.limits().preauthTimeout().toMillis()
        + config.limits().backendLoginTimeout().toMillis();
    vertx.setTimer(after, id -> {
      if (retired.remove(authenticator)) {
        authenticator.close();
      }
    });
  }

  /** What the running configuration was loaded from. */
  public Resources resources() {
    return resources;
  }

  /** The configuration new sessions get. */
  public PosternConfig config() {
    return shared.config();
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
    Map<String, ServerTls.ClientTrust> clientTrust = clientTrust(config, errors);
    if (!errors.isEmpty()) {
      return null;
    }
    try {
      return ServerTls.load(vertx, config.tls(), config.limits().handshakeTimeout())
          .withClientTrust(clientTrust);
    } catch (CertificatePair.CertificateProblem e) {
      errors.add(new ConfigError("tls", e.getMessage()));
      return null;
    }
  }

  /** The CA files of the listeners that ask for client certificates (blocking). */
  private static Map<String, ServerTls.ClientTrust> clientTrust(PosternConfig config,
      List<ConfigError> errors) {
    Map<String, ServerTls.ClientTrust> trust = new HashMap<>();
    for (int i = 0; i < config.listeners().size(); i++) {
      ListenerConfig listener = config.listeners().get(i);
      if (listener.clientCertificates().requested()) {
        ClientCa ca;
        try {
          ca = ClientCa.load(listener.clientCertificates().ca());
        } catch (CertificatePair.CertificateProblem e) {
          errors.add(new ConfigError("listeners[" + i + "].client-ca", e.getMessage()));
          continue;
        }
        try {
          Path crl = listener.clientCertificates().crl();
          ca = crl == null ? ca : ca.withCrl(crl);
          trust.put(listener.name(), new ServerTls.ClientTrust(
              listener.clientCertificates().mode(), ca));
        } catch (CertificatePair.CertificateProblem e) {
          errors.add(new ConfigError("listeners[" + i + "].client-crl", e.getMessage()));
        }
      }
    }
    return trust;
  }

  private static Authenticator authenticator(Vertx vertx, PosternConfig config,
      List<ConfigError> errors) {
    if (config.auth().source() == AuthConfig.Source.LDAP) {
      try {
        return LdapAuthenticator.create(vertx, config.auth().ldap());
      } catch (LdapAuthenticator.Problem e) {
        errors.add(new ConfigError(e.key(), e.getMessage()));
        return null;
      }
    }
    if (config.auth().source() == AuthConfig.Source.OAUTH2) {
      if (!config.backends().containsKey(config.auth().oauth2().backend())) {
        errors.add(new ConfigError("auth.oauth2.backend", "names no configured backend ('"
            + config.auth().oauth2().backend() + "')"));
        return null;
      }
      try {
        return OAuth2Authenticator.create(vertx, config.auth().oauth2());
      } catch (OAuth2Authenticator.ConfigProblem e) {
        errors.add(new ConfigError(e.key(), e.getMessage()));
        return null;
      }
    }
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
