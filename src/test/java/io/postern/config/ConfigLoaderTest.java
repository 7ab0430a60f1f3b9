package io.postern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConfigLoaderTest {

  private Vertx vertx;

  @TempDir
  Path dir;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stop() {
    vertx.close().await();
  }

  private PosternConfig load(String yaml, Map<String, String> env) throws Exception {
    Path file = dir.resolve("postern.yaml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(vertx, file, env).await();
  }

  private List<String> errors(String yaml) {
    return errors(yaml, Map.of());
  }

  private List<String> errors(String yaml, Map<String, String> env) {
    try {
      load(yaml, env);
    } catch (ConfigException e) {
      return e.errors().stream().map(ConfigError::toString).toList();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("configuration was accepted");
  }

  @Test
  void sessionTicketKeysAndTimeoutAreReadAndChecked() throws Exception {
    PosternConfig c = load("""
        tls:
          session-ticket-keys: [conf/tls/current.key, conf/tls/previous.key]
          session-timeout: 10m
        """, Map.of());
    assertThat(c.tls().sessionTicketKeys()).containsExactly(Path.of("conf/tls/current.key"),
        Path.of("conf/tls/previous.key"));
    assertThat(c.tls().sessionTimeout()).isEqualTo(Duration.ofMinutes(10));
    assertThat(load("", Map.of()).tls().sessionTimeout()).isEqualTo(Duration.ofHours(2));
    assertThat(errors("""
        tls: { engine: jdk, session-ticket-keys: [a.key], session-timeout: 25h }
        """)).contains("tls.session-ticket-keys: needs the OpenSSL engine (engine: auto or"
            + " openssl); the JDK engine encrypts tickets with its own random key, which cannot"
            + " be shared", "tls.session-timeout: must be at most 1d");
  }

  @Test
  void shippedConfigurationShouldHoldTheDesignDefaults() throws Exception {
    PosternConfig c = ConfigLoader.load(vertx, Path.of("conf/postern.yaml"), Map.of()).await();
    assertThat(c.listeners()).extracting(ListenerConfig::name, ListenerConfig::port,
            ListenerConfig::tls)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("imap", 143, TlsMode.STARTTLS),
            org.assertj.core.groups.Tuple.tuple("imaps", 993, TlsMode.IMPLICIT),
            org.assertj.core.groups.Tuple.tuple("pop3", 110, TlsMode.STARTTLS),
            org.assertj.core.groups.Tuple.tuple("pop3s", 995, TlsMode.IMPLICIT));
    assertThat(c.tls().protocols()).containsExactly("TLSv1.3", "TLSv1.2");
    assertThat(c.auth().cleartext()).isEqualTo(AuthConfig.Cleartext.TLS_ONLY);
    assertThat(c.auth().failureDelay()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.auth().maxAttempts()).isEqualTo(3);
    assertThat(c.defaultBackend().imap()).isEqualTo(new BackendConfig.Endpoint(143, TlsMode.NONE));
    assertThat(c.limits().idleTimeout()).isEqualTo(Duration.ofMinutes(30));
    assertThat(c.limits().maxLine()).isEqualTo(8192);
    assertThat(c.admin()).isEqualTo(new AdminConfig("127.0.0.1", 9102, null));
    assertThat(c.logging().format()).isEqualTo(LoggingConfig.Format.TEXT);
    assertThat(c.auth().throttle()).isEqualTo(AuthConfig.Throttle.DEFAULT);
    assertThat(c.auth().hashing()).isEqualTo(AuthConfig.Hashing.DEFAULT);
  }

  @Test
  void loggingFormatShouldBeTextOrJson() throws Exception {
    assertThat(load("logging: { format: json }\n", Map.of()).logging().format())
        .isEqualTo(LoggingConfig.Format.JSON);
    assertThat(load("{}\n", Map.of("POSTERN_LOGGING__FORMAT", "json")).logging().format())
        .isEqualTo(LoggingConfig.Format.JSON);
    assertThat(errors("logging: { format: xml }\n"))
        .singleElement().asString().contains("logging.format").contains("json");
    assertThat(errors("logging: { level: debug }\n"))
        .singleElement().asString().contains("logging.level");
  }

  @Test
  void anEmptyFileShouldMeanAllDefaults() throws Exception {
    PosternConfig c = load("{}\n", Map.of());
    PosternConfig shipped =
        ConfigLoader.load(vertx, Path.of("conf/postern.yaml"), Map.of()).await();
    assertThat(c.listeners()).isEqualTo(shipped.listeners());
    assertThat(c.limits()).isEqualTo(shipped.limits());
    assertThat(c.backends()).isEqualTo(shipped.backends());
    assertThat(c.auth()).isEqualTo(shipped.auth());
  }

  @Test
  void loginLimitsShouldBeReadAndChecked() throws Exception {
    PosternConfig c = load("""
        auth:
          throttle: { max-in-flight-per-address: 4, max-in-flight-per-user: 6,
                      remember-logins: 0s }
          hashing: { max-concurrent: 8, max-concurrent-per-ip: 2, max-memory: 1GiB,
                     max-queue: 50, max-queue-per-ip: 0 }
        """, Map.of("POSTERN_AUTH__HASHING__MAX_MEMORY", "512m"));
    assertThat(c.auth().throttle().maxInFlightPerAddress()).isEqualTo(4);
    assertThat(c.auth().throttle().maxInFlightPerUser()).isEqualTo(6);
    assertThat(c.auth().throttle().rememberLogins()).isZero();
    assertThat(c.auth().hashing()).isEqualTo(new AuthConfig.Hashing(8, 2, 512L << 20, 50, 0));
    assertThat(errors("""
        auth:
          throttle: { max-in-flight-per-address: 0 }
          hashing: { max-concurrent: 2, max-concurrent-per-ip: 3, max-memory: lots,
                     max-queues: 1 }
        """)).containsExactly(
        "auth.throttle.max-in-flight-per-address: must be between 1 and 100000 (is 0)",
        "auth.hashing.max-memory: 'lots' is not a size (use a number and KiB, MiB or GiB, e.g."
            + " 256MiB)",
        "auth.hashing.max-concurrent-per-ip: must not be more than max-concurrent",
        "auth.hashing.max-queues: unknown key");
    assertThat(errors("auth: { hashing: { max-memory: 512KiB } }\n")).containsExactly(
        "auth.hashing.max-memory: must be between 1 MiB and 1024 GiB (is 512KiB)");
  }

  @Test
  void everyProblemShouldBeReportedWithItsKey() {
    List<String> errors = errors("""
        listeners:
          - { name: imap, protocol: imap, port: 70000, tls: sometimes }
          - { name: imap, protocol: smtp, port: 25 }
        tls: { protocols: [TLSv1.1] }
        auth: { failure-delay: soon, max-attemps: 3 }
        limits: { idle-timeout: 10m, max-line: 100 }
        """);
    assertThat(errors).contains(
        "listeners[0].port: must be between 0 and 65535 (is 70000)",
        "listeners[0].tls: must be one of none, starttls, implicit (is 'sometimes')",
        "listeners[1].protocol: must be one of imap, pop3 (is 'smtp')",
        "tls.protocols: 'TLSv1.1' is not allowed; Postern speaks only TLSv1.3 and TLSv1.2",
        "auth.failure-delay: 'soon' is not a duration (use a number and ms, s, m, h or d, e.g."
            + " 30s)",
        "auth.max-attemps: unknown key",
        "limits.max-line: must be between 1024 and 1048576 (is 100)");
    assertThat(errors).anyMatch(e -> e.startsWith("limits.idle-timeout: must be at least 30m"));
  }

  @Test
  void listenersShouldBeCheckedAgainstEachOther() {
    assertThat(errors("""
        listeners:
          - { name: a, protocol: imap, port: 1143, tls: starttls }
          - { name: a, protocol: pop3, port: 1143, tls: none }
        """)).contains(
        "listeners[1].name: 'a' is used by two listeners",
        "listeners[1].port: 0.0.0.0:1143 is used by two listeners")
        .anyMatch(e -> e.startsWith("listeners[1].tls: listener 'a' has tls: none but"));
  }

  @Test
  void backendsShouldNeedADefaultAndAHost() {
    assertThat(errors("backends: { other: { host: 10.0.0.1 } }\n"))
        .anyMatch(e -> e.startsWith("backends: must define a backend named 'default'"));
    assertThat(errors("backends: { default: { host: 10.0.0.1 }, b2: { imap: { port: 993 } } }\n"))
        .contains("backends.b2.host: is required");
  }

  @Test
  void aPoolShouldBeReadWithItsServersBalanceChecksAndClientAddress() throws Exception {
    PosternConfig c = load("""
        backends:
          default:
            servers:
              - { host: 10.0.0.5 }
              - { host: 10.0.0.6, weight: 2 }
              - { host: 10.0.0.6, name: second-on-6, imap-port: 1143, pop3-port: 1110 }
            imap: { port: 143, tls: none }
            pop3: { port: 110, tls: none }
            balance: least-connections
            health-check: { interval: 10s, timeout: 3s, fall: 4, rise: 5 }
            client-ip: proxy-v2
          single: { host: 10.0.0.9 }
        """, Map.of());
    BackendConfig pool = c.defaultBackend();
    assertThat(pool.servers()).containsExactly(
        new BackendConfig.Server("10.0.0.5", "10.0.0.5", 1, null, null),
        new BackendConfig.Server("10.0.0.6", "10.0.0.6", 2, null, null),
        new BackendConfig.Server("second-on-6", "10.0.0.6", 1, 1143, 1110));
    assertThat(pool.balance()).isEqualTo(BackendConfig.Balance.LEAST_CONNECTIONS);
    assertThat(pool.healthCheck()).isEqualTo(new BackendConfig.HealthCheck(true,
        Duration.ofSeconds(10), Duration.ofSeconds(3), 4, 5));
    assertThat(pool.clientIp()).isEqualTo(BackendConfig.ClientIp.PROXY_V2);
    // One server is checked only if asked: with nowhere else to go, a check changes nothing.
    BackendConfig single = c.backends().get("single");
    assertThat(single.servers()).containsExactly(BackendConfig.Server.of("10.0.0.9"));
    assertThat(single.healthCheck().enabled()).isFalse();
    assertThat(single.balance()).isEqualTo(BackendConfig.Balance.USER_HASH);
    assertThat(single.clientIp()).isEqualTo(BackendConfig.ClientIp.NONE);
  }

  @Test
  void poolMistakesShouldBeReportedWithTheirKeys() {
    assertThat(errors("""
        backends:
          default:
            host: 10.0.0.1
            servers: [ { host: 10.0.0.5, weight: 0 }, { weight: 2 }, { host: 10.0.0.5 } ]
            balance: round-robin
            health-check: { interval: 1s, timeout: 2s, fall: 0 }
            client-ip: xclient
        """)).contains(
        "backends.default.host: give either host (one server) or servers (a pool), not both",
        "backends.default.servers[0].weight: must be between 1 and 100 (is 0)",
        "backends.default.servers[1].host: is required",
        "backends.default.health-check.timeout: must not be longer than interval (1s):"
            + " checks of one server would overlap",
        "backends.default.balance: must be one of user-hash, least-connections"
            + " (is 'round-robin')",
        "backends.default.client-ip: must be one of none, forward, proxy-v2 (is 'xclient')")
        .anyMatch(e -> e.startsWith("backends.default.health-check.fall: "))
        .anyMatch(e -> e.startsWith("backends.default.servers: two servers are named"
            + " '10.0.0.5'"));
    assertThat(errors("backends: { default: { servers: [] } }\n"))
        .contains("backends.default.servers: must list at least one server");
    String heavy = java.util.stream.IntStream.range(0, 101)
        .mapToObj(i -> "{ host: 10.0." + i / 250 + "." + i % 250 + ", weight: 100 }")
        .collect(java.util.stream.Collectors.joining(", "));
    assertThat(errors("backends: { default: { servers: [ " + heavy + " ] } }\n"))
        .contains("backends.default.servers: weights add up to 10100; at most 10000 per backend"
            + " (each unit of weight is 160 points on the hash ring)");
  }

  @Test
  void backendPortsShouldFollowTheirTlsMode() throws Exception {
    PosternConfig c = load("""
        backends:
          default: { host: mail.example.org, imap: { tls: implicit }, pop3: { tls: starttls } }
        """, Map.of());
    assertThat(c.defaultBackend().imap()).isEqualTo(new BackendConfig.Endpoint(993,
        TlsMode.IMPLICIT));
    assertThat(c.defaultBackend().pop3()).isEqualTo(new BackendConfig.Endpoint(110,
        TlsMode.STARTTLS));
  }

  @Test
  void environmentVariablesShouldOverrideTheFile() throws Exception {
    PosternConfig c = load("""
        listeners:
          - { name: imap, protocol: imap, port: 143, tls: starttls }
        """, Map.of("POSTERN_LIMITS__IDLE_TIMEOUT", "45m",
        "POSTERN_LISTENERS__0__PORT", "10143",
        "POSTERN_AUTH__PASSWD_FILE", "/etc/postern/users",
        "POSTERN_BACKENDS__DEFAULT__IMAP__TLS", "starttls",
        "HOME", "/root"));
    assertThat(c.limits().idleTimeout()).isEqualTo(Duration.ofMinutes(45));
    assertThat(c.listeners().get(0).port()).isEqualTo(10143);
    assertThat(c.auth().passwdFile()).isEqualTo(Path.of("/etc/postern/users"));
    assertThat(c.defaultBackend().imap().tls()).isEqualTo(TlsMode.STARTTLS);
  }

  @Test
  void environmentVariablesShouldReachTheDefaultListeners() throws Exception {
    // What the bind error advises a newcomer without root, with the shipped default listeners.
    PosternConfig c = load("auth: { cleartext: tls-only }\n",
        Map.of("POSTERN_LISTENERS__0__PORT", "10143", "POSTERN_LISTENERS__3__PORT", "10995"));
    assertThat(c.listeners()).extracting(ListenerConfig::port)
        .containsExactly(10143, 993, 110, 10995);
  }

  @Test
  void timeoutsShouldHaveAnUpperBoundAndProxyListenersTrustedPeers() {
    assertThat(errors("limits: { backend-connect-timeout: 30d, preauth-timeout: 2h }\n"))
        .contains("limits.backend-connect-timeout: must be at most 10m",
            "limits.preauth-timeout: must be at most 1h");
    assertThat(errors("listeners: [ { name: x, protocol: imap, port: 1993, tls: implicit,"
        + " proxy-protocol: true } ]\n"))
        .anyMatch(e -> e.startsWith("listeners[0].proxy-protocol: is true but"
            + " limits.trusted-networks is empty"));
  }

  @Test
  void listenerCapabilitiesShouldBeAtomsOrCapaLinesAndNeverPosternsOwn() throws Exception {
    PosternConfig c = load("listeners:\n"
        + "  - { name: p, protocol: pop3, port: 1995, tls: implicit,"
        + " capabilities: [ top, UIDL, 'EXPIRE NEVER', TOP ] }\n"
        + "  - { name: i, protocol: imap, port: 1993, tls: implicit,"
        + " capabilities: [ IMAP4rev2, utf8=accept ] }\n"
        + "  - { name: j, protocol: imap, port: 1994, tls: implicit }\n", Map.of());
    assertThat(c.listeners()).extracting(ListenerConfig::capabilities).containsExactly(
        List.of("TOP", "UIDL", "EXPIRE NEVER"), List.of("IMAP4REV2", "UTF8=ACCEPT"), null);
    assertThat(errors("listeners:\n"
        + "  - { name: p, protocol: pop3, port: 1995, tls: implicit,"
        + " capabilities: [ \"TOP\\r\\nUSER\", STLS, 'SASL PLAIN', UTF8, '', 'TOP  UIDL' ] }\n"
        + "  - { name: i, protocol: imap, port: 1993, tls: implicit,"
        + " capabilities: [ 'LITERAL+', AUTH=PLAIN, starttls, 'IMAP4rev2 IDLE', XCLIENT,"
        + " { a: b } ] }\n"))
        .contains("listeners[0].capabilities[0]: 'TOP??USER' is not a POP3 capability line"
                + " (a keyword, then parameters separated by one space, printable ASCII)",
            "listeners[0].capabilities[1]: 'STLS' is Postern's own: it is announced as the"
                + " listener's TLS and auth settings allow",
            "listeners[0].capabilities[2]: 'SASL PLAIN' is Postern's own: it is announced as"
                + " the listener's TLS and auth settings allow",
            "listeners[0].capabilities[3]: 'UTF8' cannot be announced: Postern does not answer"
                + " UTF8 before login",
            "listeners[0].capabilities[4]: '' must be 1 to 100 characters",
            "listeners[1].capabilities[0]: 'LITERAL+' is Postern's own: it is announced as the"
                + " listener's TLS and auth settings allow",
            "listeners[1].capabilities[1]: 'AUTH=PLAIN' is Postern's own: it is announced as"
                + " the listener's TLS and auth settings allow",
            "listeners[1].capabilities[2]: 'starttls' is Postern's own: it is announced as the"
                + " listener's TLS and auth settings allow",
            "listeners[1].capabilities[4]: 'XCLIENT' is for proxies talking to backends, not"
                + " for clients",
            "listeners[1].capabilities[5]: must be a single value")
        .anyMatch(e -> e.startsWith("listeners[0].capabilities[5]: 'TOP  UIDL' is not a POP3"))
        .anyMatch(e -> e.startsWith("listeners[1].capabilities[3]: 'IMAP4rev2 IDLE' is not an"
            + " IMAP atom"));
  }

  @Test
  void environmentVariablesShouldBeCheckedLikeTheFile() {
    assertThat(errors("{}\n", Map.of("POSTERN_LIMITS__MAX_LINES", "1")))
        .contains("limits.max-lines: unknown key (set by POSTERN_LIMITS__MAX_LINES)");
    assertThat(errors("{}\n", Map.of("POSTERN_LISTENERS__7__PORT", "1")))
        .anyMatch(e -> e.startsWith("POSTERN_LISTENERS__7__PORT: cannot set it"));
  }

  @Test
  void launcherVariablesShouldNotStopPostern() throws Exception {
    // What a systemd EnvironmentFile, the launcher or a container image carries beside the keys.
    PosternConfig c = load("{}\n", Map.of(
        "POSTERN_JAVA_OPTS", "-Xmx1g -XX:+ExitOnOutOfMemoryError",
        "POSTERN_HOME", "/usr/share/postern",
        "POSTERN_HEAP", "512m",
        "POSTERN_CONFIG", "/etc/postern/postern.yaml",
        "POSTERN_LIMITS__IDLE_TIMEOUT", "45m"));
    assertThat(c.limits().idleTimeout()).isEqualTo(Duration.ofMinutes(45));
  }

  @Test
  void aTypoInsideAKeyPathShouldStillStopPosternNamingTheVariable() {
    assertThat(errors("{}\n", Map.of(
        "POSTERN_JAVA_OPTS", "-Xmx1g",
        "POSTERN_LIMITS__IDLE_TIMOUT", "45m")))
        .containsExactly("limits.idle-timout: unknown key (set by POSTERN_LIMITS__IDLE_TIMOUT)");
    assertThat(errors("{}\n", Map.of("POSTERN_LISTENERS__0__PROT", "1")))
        .contains("listeners[0].prot: unknown key (set by POSTERN_LISTENERS__0__PROT)");
    assertThat(errors("{}\n", Map.of("POSTERN_LIMITS__IDLE_TIMEOUT", "soon")))
        .anyMatch(e -> e.startsWith("limits.idle-timeout: ")
            && e.endsWith("(set by POSTERN_LIMITS__IDLE_TIMEOUT)"));
  }

  @Test
  void authServiceUrlsShouldBeCheckedAsNginxTakesThem() throws Exception {
    assertThat(errors("auth: { source: http, http: { url: [] } }\n"))
        .containsExactly("auth.http.url: needs at least one URL");
    assertThat(errors("auth: { source: http, http: { url: [\"ftp://a/auth\", \"/auth\","
        + " \"http://svc:s3cret@auth/auth\", \"http://a b/\"] } }\n")).containsExactly(
        "auth.http.url: 'ftp://a/auth' must be an http:// or https:// URL with a host",
        "auth.http.url: '/auth' must be an http:// or https:// URL with a host",
        "auth.http.url: 'http://…@auth/auth' must not hold a user or password; send"
            + " credentials with auth.http.headers (e.g. Authorization: Basic ...)",
        "auth.http.url: 'http://a b/' is not a URL");
    // Docker Compose service names hold '_', which nginx accepts.
    PosternConfig config = load("auth: { source: http, http: { url: [\"http://auth_service:9000/"
        + "auth\", \"https://[::1]:8443/auth\"] } }\n", Map.of());
    assertThat(config.auth().http().urls()).containsExactly("http://auth_service:9000/auth",
        "https://[::1]:8443/auth");
  }

  @Test
  void authServiceUrlBackoffShouldDefaultTo10sDoublingTo2mAndBeBounded() throws Exception {
    AuthConfig.Http defaults = load("{}\n", Map.of()).auth().http();
    assertThat(defaults.urlBackoff()).isEqualTo(Duration.ofSeconds(10));
    assertThat(defaults.urlBackoffMax()).isEqualTo(Duration.ofMinutes(2));
    AuthConfig.Http set = load("auth: { http: { url-backoff: 30s, url-backoff-max: 10m } }\n",
        Map.of()).auth().http();
    assertThat(set.urlBackoff()).isEqualTo(Duration.ofSeconds(30));
    assertThat(set.urlBackoffMax()).isEqualTo(Duration.ofMinutes(10));
    // A longer first back-off alone raises the maximum with it.
    assertThat(load("auth: { http: { url-backoff: 5m } }\n", Map.of()).auth().http()
        .urlBackoffMax()).isEqualTo(Duration.ofMinutes(5));
    assertThat(errors("auth: { http: { url-backoff: 0s, url-backoff-max: 2h } }\n"))
        .containsExactlyInAnyOrder("auth.http.url-backoff: must be longer than zero",
            "auth.http.url-backoff-max: must be at most 1h");
    assertThat(errors("auth: { http: { url-backoff: 1m, url-backoff-max: 30s } }\n"))
        .containsExactly("auth.http.url-backoff-max: must not be less than url-backoff");
  }

  @Test
  void aMissingFileShouldSaySo() {
    assertThatThrownBy(() -> ConfigLoader.load(vertx, dir.resolve("nope.yaml"), Map.of())
        .await()).isInstanceOf(ConfigException.class).hasMessageContaining("does not exist");
  }

  @Test
  void brokenYamlShouldSaySo() {
    assertThat(errors("listeners: [ {\n")).singleElement().asString()
        .startsWith("--config: cannot read");
  }

  @Test
  void connectionLimitsShouldTakeAutoRatesAndAReserve() throws Exception {
    LimitsConfig defaults = load("{}\n", Map.of()).limits();
    assertThat(defaults.maxConnections()).isEqualTo(LimitsConfig.AUTO);
    assertThat(defaults.connectionRatePerIp()).isEqualTo(300);
    assertThat(defaults.handshakeRatePerIp()).isEqualTo(120);
    assertThat(defaults.descriptorReserve()).isEqualTo(256);
    LimitsConfig set = load("limits: { max-connections: 2000, connection-rate-per-ip: 0,"
        + " handshake-rate-per-ip: 30, descriptor-reserve: 100 }\n",
        Map.of("POSTERN_LIMITS__MAX_CONNECTIONS", "auto")).limits();
    assertThat(set.maxConnections()).isEqualTo(LimitsConfig.AUTO);
    assertThat(set.connectionRatePerIp()).isZero();
    assertThat(set.handshakeRatePerIp()).isEqualTo(30);
    assertThat(set.descriptorReserve()).isEqualTo(100);
    assertThat(errors("limits: { max-connections: lots, handshake-rate-per-ip: -1,"
        + " descriptor-reserve: 1 }\n")).containsExactlyInAnyOrder(
        "limits.max-connections: must be a whole number or auto (is 'lots')",
        "limits.handshake-rate-per-ip: must be between 0 and 10000000 (is -1)",
        "limits.descriptor-reserve: must be between 32 and 1000000 (is 1)");
  }
}
