package io.postern.testing;

import io.postern.PosternServer;
import io.postern.auth.Authenticator;
import io.postern.config.AdminConfig;
import io.postern.config.AuthConfig;
import io.postern.config.BackendConfig;
import io.postern.config.CertificateFiles;
import io.postern.config.LimitsConfig;
import io.postern.config.LoggingConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsConfig;
import io.postern.config.TlsMode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.postern.metrics.MeteredVertx;
import io.postern.metrics.PosternMeters;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.commons.codec.digest.Crypt;

/**
 * Postern running inside the test JVM on loopback ports chosen by the OS: listeners {@code imap}
 * (STARTTLS), {@code imaps}, {@code pop3} (STLS) and {@code pop3s}, a passwd-file with the given
 * users, and backends pointing wherever the test says. Timeouts are short so tests stay fast.
 */
public final class PosternFixture implements AutoCloseable {

  private final Vertx vertx;
  private final PosternServer server;
  private final TestTls tls;
  private final PosternConfig config;
  private final PosternMeters meters;

  private PosternFixture(Vertx vertx, PosternServer server, TestTls tls, PosternConfig config,
      PosternMeters meters) {
    this.meters = meters;
    this.vertx = vertx;
    this.server = server;
    this.tls = tls;
    this.config = config;
  }

  /** A passwd-file line with a real SHA512-CRYPT hash and the given extra fields. */
  public static String passwdLine(String user, String password, String extraFields) {
    return user + ":{SHA512-CRYPT}" + Crypt.crypt(password.getBytes(
        java.nio.charset.StandardCharsets.UTF_8), "$6$testsalt") + "::::::" + extraFields;
  }

  public static Builder builder(Path dir) {
    return new Builder(dir);
  }

  public int port(String listener) {
    return server.port(listener);
  }

  public PosternMeters meters() {
    return meters;
  }

  /** The admin endpoint's base address, e.g. {@code http://127.0.0.1:40123}. */
  public String adminUrl() {
    return "http://127.0.0.1:" + server.adminPort();
  }

  public TestTls tls() {
    return tls;
  }

  public Vertx vertx() {
    return vertx;
  }

  public PosternConfig config() {
    return config;
  }

  public PosternServer server() {
    return server;
  }

  @Override
  public void close() throws Exception {
    try {
      server.stop().await();
    } finally {
      vertx.close().await();
      tls.close();
    }
  }

  /** Test settings; anything not set has a fast, safe default. */
  public static final class Builder {
    private final Path dir;
    private final Map<String, String> users = new LinkedHashMap<>();
    private final List<String> extraLines = new ArrayList<>();
    private final Map<String, BackendConfig> backends = new LinkedHashMap<>();
    private final List<ListenerConfig> extraListeners = new ArrayList<>();
    private AuthConfig.Cleartext cleartext = AuthConfig.Cleartext.TLS_ONLY;
    private Duration failureDelay = Duration.ZERO;
    private int maxAttempts = 3;
    private Duration preauthTimeout = Duration.ofSeconds(20);
    private Duration idleTimeout = Duration.ofMinutes(30);
    private Duration handshakeTimeout = Duration.ofSeconds(5);
    private Duration backendConnectTimeout = Duration.ofSeconds(2);
    private Duration backendLoginTimeout = Duration.ofSeconds(3);
    private Duration shutdownGrace = Duration.ofSeconds(1);
    private Duration drainWindow = Duration.ZERO;
    private int maxLine = 8192;
    private int maxLiteral = 8192;
    private int maxBadCommands = 5;
    private int maxConnections = 1000;
    private int maxPerIp = 1000;
    // Off unless a test asks: many tests open connection after connection from 127.0.0.1.
    private int connectionRate = 0;
    private int handshakeRate = 0;
    private UnaryOperator<Authenticator> wrapAuth = UnaryOperator.identity();
    private AuthConfig.Source authSource = AuthConfig.Source.PASSWD_FILE;
    private List<String> authUrls = List.of("http://127.0.0.1:9/auth");
    private Duration authTimeout = Duration.ofSeconds(5);
    private Map<String, String> authHeaders = Map.of();
    private io.postern.config.LdapConfig ldap;
    private io.postern.config.MasterConfig master;
    // Off unless a test asks: most tests log in repeatedly and count what the source sees.
    private AuthConfig.Cache cache = new AuthConfig.Cache(Duration.ofSeconds(60),
        Duration.ofSeconds(5), 0);
    private AuthConfig.Throttle throttle = new AuthConfig.Throttle(Duration.ZERO, Duration.ZERO,
        Duration.ofHours(1), 1000);
    // The shipped bounds, but room for every login of a test's one address to queue: tests log
    // in many sessions at once from 127.0.0.1 (HashFloodTest asks for the shipped ones).
    private AuthConfig.Hashing hashing = new AuthConfig.Hashing(2, 1, 256L << 20, 256, 256);
    private TlsConfig.Engine engine = TlsConfig.Engine.AUTO;
    private Duration watchInterval = Duration.ofSeconds(5);
    private List<Path> ticketKeys = List.of();
    private String adminAddress = "127.0.0.1";
    private Path adminTokenFile;
    private final List<CertificateFiles> certificates = new ArrayList<>();
    private final List<io.postern.config.Cidr> trusted = new ArrayList<>();

    private Builder(Path dir) {
      this.dir = dir;
    }

    public Builder user(String name, String password) {
      users.put(name, password);
      return this;
    }

    /** A raw passwd-file line, e.g. with extra fields. */
    public Builder passwdLine(String line) {
      extraLines.add(line);
      return this;
    }

    /** Points the {@code default} backend at a plaintext server on loopback. */
    public Builder backend(int imapPort, int pop3Port) {
      return backend("default", "127.0.0.1", imapPort, TlsMode.NONE, pop3Port, TlsMode.NONE,
          true, null);
    }

    public Builder backend(String name, String host, int imapPort, TlsMode imapTls, int pop3Port,
        TlsMode pop3Tls, boolean verify, Path ca) {
      backends.put(name, new BackendConfig(name, host, new BackendConfig.Endpoint(imapPort,
          imapTls), new BackendConfig.Endpoint(pop3Port, pop3Tls), verify, ca));
      return this;
    }

    /** A backend as configured in full: a pool, its health checks, how it gets the client. */
    public Builder backend(BackendConfig backend) {
      backends.put(backend.name(), backend);
      return this;
    }

    /** How backend {@code name} (added before) is told the client's address. */
    public Builder clientIp(String name, BackendConfig.ClientIp mode) {
      backends.put(name, backends.get(name).withClientIp(mode));
      return this;
    }

    /**
     * Marks backend {@code name} (already added) as health-checked, so that what its servers
     * offer, as the checks record it, is all Postern knows of it.
     */
    public Builder healthChecked(String name) {
      backends.put(name, backends.get(name).withHealthCheck(BackendConfig.HealthCheck.DEFAULT));
      return this;
    }

    /** An extra listener that announces {@code capabilities} before login, whatever is learned. */
    public Builder listener(String name, Protocol protocol, TlsMode tls,
        List<String> capabilities) {
      extraListeners.add(new ListenerConfig(name, protocol, "127.0.0.1", 0, tls, false,
          capabilities));
      return this;
    }

    /** An extra listener as configured (e.g. with client certificates). */
    public Builder listener(ListenerConfig listener) {
      extraListeners.add(listener);
      return this;
    }

    /** An extra plaintext IMAP and POP3 listener pair, {@code imap-plain}/{@code pop3-plain}. */
    public Builder plaintextListeners() {
      extraListeners.add(new ListenerConfig("imap-plain", Protocol.IMAP, "127.0.0.1", 0,
          TlsMode.NONE, false));
      extraListeners.add(new ListenerConfig("pop3-plain", Protocol.POP3, "127.0.0.1", 0,
          TlsMode.NONE, false));
      return this;
    }

    public Builder cleartext(AuthConfig.Cleartext value) {
      cleartext = value;
      return this;
    }

    public Builder failureDelay(Duration value) {
      failureDelay = value;
      return this;
    }

    public Builder maxAttempts(int value) {
      maxAttempts = value;
      return this;
    }

    public Builder preauthTimeout(Duration value) {
      preauthTimeout = value;
      return this;
    }

    /** Below the 30m floor of the configuration file: only tests may do this. */
    public Builder idleTimeout(Duration value) {
      idleTimeout = value;
      return this;
    }

    /** TLS handshakes, PROXY headers, and the last flush of a closing connection. */
    public Builder handshakeTimeout(Duration value) {
      handshakeTimeout = value;
      return this;
    }

    public Builder backendTimeouts(Duration connect, Duration login) {
      backendConnectTimeout = connect;
      backendLoginTimeout = login;
      return this;
    }

    /** {@code limits.shutdown-grace} (1 s unless a test says) and {@code drain-window} (0). */
    public Builder shutdown(Duration grace, Duration drainWindow) {
      shutdownGrace = grace;
      this.drainWindow = drainWindow;
      return this;
    }

    public Builder maxLine(int value) {
      maxLine = value;
      return this;
    }

    public Builder maxLiteral(int value) {
      maxLiteral = value;
      return this;
    }

    public Builder maxBadCommands(int value) {
      maxBadCommands = value;
      return this;
    }

    public Builder connectionLimits(int total, int perIp) {
      maxConnections = total;
      maxPerIp = perIp;
      return this;
    }

    /** {@code limits.connection-rate-per-ip} and {@code handshake-rate-per-ip}, per minute. */
    public Builder rates(int connectionsPerMinute, int handshakesPerMinute) {
      connectionRate = connectionsPerMinute;
      handshakeRate = handshakesPerMinute;
      return this;
    }

    /**
     * Serve this certificate instead of the shared self-signed test one; call again to add more
     * (the first is the default, the others are chosen by SNI).
     */
    public Builder certificate(Path cert, Path key) {
      certificates.add(new CertificateFiles(cert, key));
      return this;
    }

    /** Adds listeners {@code imap-proxied} and {@code pop3-proxied} (implicit TLS, PROXY header). */
    public Builder proxyProtocolListeners() {
      extraListeners.add(new ListenerConfig("imap-proxied", Protocol.IMAP, "127.0.0.1", 0,
          TlsMode.IMPLICIT, true));
      extraListeners.add(new ListenerConfig("pop3-proxied", Protocol.POP3, "127.0.0.1", 0,
          TlsMode.IMPLICIT, true));
      return this;
    }

    /** An extra listener on {@code address} (e.g. {@code ::1}), port chosen by the OS. */
    public Builder listener(String name, Protocol protocol, String address, TlsMode tls) {
      extraListeners.add(new ListenerConfig(name, protocol, address, 0, tls, false));
      return this;
    }

    /** Where the admin endpoint listens (127.0.0.1 unless a test says), port chosen by the OS. */
    public Builder adminAddress(String address) {
      adminAddress = address;
      return this;
    }

    /** {@code admin.token-file}: the admin API's bearer token (none unless a test says). */
    public Builder adminTokenFile(Path file) {
      adminTokenFile = file;
      return this;
    }

    /** A CIDR of limits.trusted-networks (may send PROXY headers). */
    public Builder trustedNetwork(String cidr) {
      trusted.add(io.postern.config.Cidr.parse(cidr));
      return this;
    }

    /** {@code tls.watch-interval}: how often the certificate files are looked at. */
    public Builder watchInterval(Duration value) {
      watchInterval = value;
      return this;
    }

    public Builder engine(TlsConfig.Engine value) {
      engine = value;
      return this;
    }

    /** {@code tls.session-ticket-keys}. */
    public Builder ticketKeys(Path... files) {
      ticketKeys = List.of(files);
      return this;
    }

    /** {@code auth.source: http} with these URLs, timeout and extra headers. */
    public Builder httpAuth(List<String> urls, Duration timeout, Map<String, String> headers) {
      authSource = AuthConfig.Source.HTTP;
      authUrls = List.copyOf(urls);
      authTimeout = timeout;
      authHeaders = Map.copyOf(headers);
      return this;
    }

    /** {@code auth.source: ldap} with these settings. */
    public Builder ldapAuth(io.postern.config.LdapConfig settings) {
      authSource = AuthConfig.Source.LDAP;
      ldap = settings;
      return this;
    }

    /** {@code auth.master}: master users around the source (backends need their master). */
    public Builder masterUsers(io.postern.config.MasterConfig settings) {
      master = settings;
      return this;
    }

    public Builder authCache(Duration ttl, Duration negativeTtl, long maxEntries) {
      cache = new AuthConfig.Cache(ttl, negativeTtl, maxEntries);
      return this;
    }

    public Builder throttle(Duration initialDelay, Duration maxDelay) {
      throttle = new AuthConfig.Throttle(initialDelay, maxDelay, Duration.ofHours(1), 1000);
      return this;
    }

    /** The whole throttle: penalty, in-flight bounds, remembered logins. */
    public Builder throttle(AuthConfig.Throttle value) {
      throttle = value;
      return this;
    }

    public Builder hashing(AuthConfig.Hashing value) {
      hashing = value;
      return this;
    }

    /** Wraps the passwd-file authenticator, e.g. to count how often it is asked. */
    public Builder wrapAuthenticator(UnaryOperator<Authenticator> wrap) {
      wrapAuth = wrap;
      return this;
    }

    public PosternFixture start() throws Exception {
      Files.createDirectories(dir);
      Path passwd = dir.resolve("users.passwd");
      List<String> lines = new ArrayList<>();
      for (Map.Entry<String, String> u : users.entrySet()) {
        lines.add(PosternFixture.passwdLine(u.getKey(), u.getValue(), ""));
      }
      lines.addAll(extraLines);
      Files.write(passwd, lines);
      if (!backends.containsKey("default")) {
        backend(1, 1);
      }
      TestTls tls = TestTls.shared("localhost");
      List<ListenerConfig> listeners = new ArrayList<>(List.of(
          new ListenerConfig("imap", Protocol.IMAP, "127.0.0.1", 0, TlsMode.STARTTLS, false),
          new ListenerConfig("imaps", Protocol.IMAP, "127.0.0.1", 0, TlsMode.IMPLICIT, false),
          new ListenerConfig("pop3", Protocol.POP3, "127.0.0.1", 0, TlsMode.STARTTLS, false),
          new ListenerConfig("pop3s", Protocol.POP3, "127.0.0.1", 0, TlsMode.IMPLICIT, false)));
      listeners.addAll(extraListeners);
      PosternConfig config = new PosternConfig(
          listeners,
          new TlsConfig(!certificates.isEmpty() ? certificates
              : List.of(new CertificateFiles(tls.certPath(), tls.keyPath())),
              List.of("TLSv1.3", "TLSv1.2"), engine, watchInterval, ticketKeys,
              TlsConfig.DEFAULT_SESSION_TIMEOUT),
          new AuthConfig(authSource, passwd,
              new AuthConfig.Http(authUrls, authTimeout, authHeaders, null),
              cleartext, failureDelay, maxAttempts,
              cache, throttle, hashing, ldap, null, master),
          backends,
          new LimitsConfig(preauthTimeout, idleTimeout, handshakeTimeout,
              backendConnectTimeout, backendLoginTimeout, maxLine, maxLiteral, maxBadCommands,
              maxConnections, maxPerIp, trusted, shutdownGrace, connectionRate,
              handshakeRate, 256, drainWindow),
          new AdminConfig(adminAddress, 0, adminTokenFile), LoggingConfig.DEFAULT);
      PrometheusMeterRegistry registry = MeteredVertx.registry();
      Vertx vertx = MeteredVertx.create(MeteredVertx.options(), registry);
      try {
        PosternServer.Resources loaded = PosternServer.load(vertx, config, null);
        PosternServer.Resources resources = new PosternServer.Resources(loaded.config(),
            loaded.tls(), loaded.backendTls(), wrapAuth.apply(loaded.authenticator()),
            loaded.users());
        PosternMeters meters = new PosternMeters(registry, config,
            resources.authenticator().source(), "test");
        PosternServer server = PosternServer.start(vertx, resources, 2, meters).await();
        return new PosternFixture(vertx, server, tls, config, meters);
      } catch (Exception e) {
        vertx.close();
        tls.close();
        throw e;
      }
    }
  }
}
