package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.ExternalCommand;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator sees, with every part real: the packaged jar (JSON logs) in front of Dovecot,
 * curl and Python's imaplib/poplib as clients, and Debian's Prometheus scraping the admin
 * endpoint with the shipped alert rules loaded. Each DESIGN.md §6 series is read back through
 * Prometheus's HTTP API, every PromQL expression of the shipped Grafana dashboard is evaluated,
 * promtool checks the scrape and the rules, and a canary password is searched for everywhere.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ObservabilityIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);

  /** Only ever typed by the clients of this test: it must not show up anywhere Postern writes. */
  private final String canary = "Canary-" + UUID.randomUUID();

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private OpensslCertificates.Pair cert;
  private PosternJar postern;
  private Map<String, Integer> ports;
  private PrometheusServer prometheus;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    RealParts.require("python3");
    RealParts.require("promtool");
    dovecot = DovecotServer.start(dir.resolve("dovecot"), Map.of("alice", canary));
    dovecot.deliver("alice", ("From: a@example.net\r\nTo: alice@example.net\r\n"
        + "Subject: observed\r\n\r\n" + "x".repeat(20_000) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    cert = OpensslCertificates.localhost(dir, "postern");
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, PosternFixture.passwdLine("alice", canary, "") + "\n");
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "listeners:",
        "  - { name: imap,  protocol: imap, address: 127.0.0.1, port: 0, tls: starttls }",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3,  protocol: pop3, address: 127.0.0.1, port: 0, tls: starttls }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth: { passwd-file: '" + passwd + "', failure-delay: 100ms }",
        "backends:",
        "  default:",
        "    host: 127.0.0.1",
        "    imap: { port: " + dovecot.imapPort() + ", tls: none }",
        "    pop3: { port: " + dovecot.pop3Port() + ", tls: none }",
        // A checked pool that no user is routed to: its health checks feed the dashboard's
        // Backends row (servers up, check durations) without changing any login above.
        "  pool:",
        "    servers: [ { name: first, host: 127.0.0.1 }, { name: second, host: 127.0.0.1 } ]",
        "    imap: { port: " + dovecot.imapPort() + ", tls: none }",
        "    pop3: { port: " + dovecot.pop3Port() + ", tls: none }",
        "    health-check: { interval: 1s, timeout: 1s }",
        "limits: { backend-connect-timeout: 2s, backend-login-timeout: 5s }",
        "admin: { address: 127.0.0.1, port: 0 }",
        "logging: { format: json }",
        ""));
    postern = PosternJar.start(dir, Map.of(), "--config", config.toString());
    ports = postern.listenerPorts();
    assertThat(ports).containsOnlyKeys("imap", "imaps", "pop3", "pop3s");
    prometheus = PrometheusServer.start(dir.resolve("prometheus"), "127.0.0.1:" + postern.adminPort(),
        List.of(Path.of("deploy/prometheus/alerts.yml")));
    // A first scrape before any traffic: every counter's first sample is 0, so rate() sees
    // what the sessions below add.
    Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> prometheus.value("up{job=\"postern\"}") == 1.0);
  }

  @AfterAll
  void stop() throws Exception {
    if (prometheus != null) {
      prometheus.close();
    }
    if (postern != null) {
      postern.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
  }

  @Test
  @Order(1)
  void realSessionsShouldWork() throws Exception {
    String cacert = cert.cert().toString();
    ProcessResult r = Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u",
        "alice:" + canary, "imaps://localhost:" + ports.get("imaps") + "/INBOX;UID=1");
    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(r.stdout()).contains("Subject: observed");
    r = Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u", "alice:" + canary,
        "pop3s://localhost:" + ports.get("pop3s") + "/1");
    assertThat(r.stdout()).as("%s", r).contains("Subject: observed");
    r = Clients.python(CLIENT_TIMEOUT, "imap_client.py", "--host", "localhost", "--port",
        String.valueOf(ports.get("imap")), "--tls", "starttls", "--cafile", cacert,
        "--user", "alice", "--password", canary, "--mech", "plain", "--fetch-uid", "1",
        "--out", dir.resolve("fetched.eml").toString());
    assertThat(r.exitCode()).as("%s", r).isZero();
    r = Clients.python(CLIENT_TIMEOUT, "pop3_client.py", "--host", "localhost", "--port",
        String.valueOf(ports.get("pop3")), "--tls", "starttls", "--cafile", cacert,
        "--user", "alice", "--password", canary);
    assertThat(r.exitCode()).as("%s", r).isZero();
    // A wrong password, and the right one offered before TLS (refused, never checked).
    r = Clients.python(CLIENT_TIMEOUT, "imap_client.py", "--host", "localhost", "--port",
        String.valueOf(ports.get("imaps")), "--tls", "implicit", "--cafile", cacert,
        "--user", "alice", "--password", canary + "-wrong", "--expect-login-failure");
    assertThat(r.exitCode()).as("%s", r).isZero();
    r = Clients.python(CLIENT_TIMEOUT, "imap_client.py", "--port",
        String.valueOf(ports.get("imap")), "--tls", "none", "--user", "alice", "--password",
        canary, "--expect-login-failure");
    assertThat(r.exitCode()).as("%s", r).isZero();
    r = Clients.python(CLIENT_TIMEOUT, "pop3_client.py", "--port",
        String.valueOf(ports.get("pop3")), "--tls", "none", "--user", "alice", "--password",
        canary, "--mech", "plain", "--expect-login-failure");
    assertThat(r.exitCode()).as("%s", r).isZero();
  }

  @Test
  @Order(2)
  void readinessShouldFollowTheBackend() throws Exception {
    assertThat(get("/health/live").statusCode()).isEqualTo(200);
    HttpResponse<String> ready = get("/health/ready");
    assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
    assertThat(new JsonObject(ready.body()).getString("status")).isEqualTo("ready");

    dovecot.stop();
    Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> get("/health/ready").statusCode() == 503);
    JsonObject body = new JsonObject(get("/health/ready").body());
    assertThat(body.getJsonArray("problems").encode()).contains("backend default has no live server for imap",
        "backend default has no live server for pop3");
    assertThat(body.getJsonObject("backends").getJsonObject("default").getString("imap"))
        .startsWith("down 127.0.0.1:" + dovecot.imapPort());
    // A login while the backend is down: NO [UNAVAILABLE], counted as unavailable.
    ProcessResult r = Clients.curl(CLIENT_TIMEOUT, "--cacert", cert.cert().toString(),
        "-v", "-u", "alice:" + canary, "imaps://localhost:" + ports.get("imaps") + "/INBOX");
    assertThat(r.exitCode()).as("%s", r).isNotZero();
    assertThat(r.stderr()).contains("[UNAVAILABLE]");

    dovecot.restart();
    Awaitility.await().atMost(Duration.ofSeconds(10))
        .until(() -> get("/health/ready").statusCode() == 200);
  }

  @Test
  @Order(3)
  void prometheusShouldSeeEverySeriesWithTheValuesTheSessionsMade() throws Exception {
    awaitScrapeAfterTheSessions();
    assertThat(sum("postern_logins_total{protocol=\"imap\",result=\"success\"}")).isEqualTo(2);
    assertThat(sum("postern_logins_total{protocol=\"pop3\",result=\"success\"}")).isEqualTo(2);
    // Python's poplib sent USER/PASS; curl chose AUTH PLAIN.
    assertThat(sum("postern_logins_total{protocol=\"pop3\",mechanism=\"user\",result=\"success\"}"))
        .isEqualTo(1);
    assertThat(sum("postern_logins_total{result=\"failure\"}")).isEqualTo(1);
    assertThat(sum("postern_logins_total{protocol=\"imap\",mechanism=\"login\","
        + "result=\"cleartext_refused\"}")).isEqualTo(1);
    assertThat(sum("postern_logins_total{protocol=\"pop3\",mechanism=\"plain\","
        + "result=\"cleartext_refused\"}")).isEqualTo(1);
    assertThat(sum("postern_logins_total{result=\"unavailable\"}")).isEqualTo(1);
    assertThat(sum("postern_logins_total{result=\"throttled\"}")).isZero();

    assertThat(sum("postern_connections_total{listener=\"imaps\",protocol=\"imap\"}"))
        .isEqualTo(3);
    assertThat(sum("postern_connections_total{listener=\"imap\"}")).isEqualTo(2);
    assertThat(sum("postern_connections_total{listener=\"pop3\"}")).isEqualTo(2);
    assertThat(sum("postern_connections_total{listener=\"pop3s\"}")).isEqualTo(1);
    assertThat(sum("postern_connections_active")).isZero();
    assertThat(sum("postern_connections_rejected_total")).isZero();
    // Four listeners, six reasons each: every series exists from the start.
    assertThat(prometheus.vector("postern_connections_rejected_total")).hasSize(24);
    assertThat(sum("postern_listener_up")).isEqualTo(4);

    // STARTTLS twice (imap, pop3), implicit TLS four times (imaps ×3, pop3s).
    assertThat(sum("postern_tls_handshakes_total{result=\"success\",version=\"TLSv1.3\"}"))
        .isEqualTo(6);
    assertThat(sum("postern_tls_handshakes_total{result=\"failure\"}")).isZero();

    // Six logins reached the auth step; the cache answered those whose protocol, user and
    // password it had seen (the shipped configuration caches), the passwd-file the others.
    double hits = sum("postern_auth_cache_total{result=\"hit\"}");
    double misses = sum("postern_auth_cache_total{result=\"miss\"}");
    assertThat(hits + misses).isEqualTo(6);
    assertThat(hits).isEqualTo(3);
    assertThat(sum("postern_auth_duration_seconds_count{source=\"passwd-file\"}"))
        .isEqualTo(misses);
    assertThat(sum("postern_auth_errors_total")).isZero();
    assertThat(sum("postern_backend_connect_duration_seconds_count{backend=\"default\"}"))
        .isEqualTo(4);
    assertThat(sum("postern_backend_errors_total{backend=\"default\",reason=\"unreachable\"}"))
        .isEqualTo(1);
    assertThat(sum("postern_sessions_active")).isZero();
    assertThat(sum("postern_session_duration_seconds_count{protocol=\"imap\"}")).isEqualTo(2);
    assertThat(sum("postern_session_duration_seconds_count{protocol=\"pop3\"}")).isEqualTo(2);
    // Two fetches of a 20 kB message each way to the client.
    assertThat(sum("postern_relay_bytes_total{protocol=\"imap\",direction=\"to_client\"}"))
        .isGreaterThan(40_000);
    assertThat(sum("postern_relay_bytes_total{protocol=\"pop3\",direction=\"to_backend\"}"))
        .isGreaterThan(0);

    X509Certificate x509;
    try (InputStream in = Files.newInputStream(cert.cert())) {
      x509 = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    assertThat(sum("postern_tls_certificate_expiry_timestamp_seconds{certificate=\""
        + cert.cert() + "\"}")).isEqualTo(x509.getNotAfter().toInstant().getEpochSecond());
    assertThat(prometheus.vector("postern_build_info{version=~\"\\\\d+\\\\..+\"}")).hasSize(1);

    // Vert.x's own meters tell the four listeners apart by their local address.
    JsonArray servers = prometheus.vector("sum by (local) (vertx_net_server_bytes_read_total)");
    List<String> locals = new ArrayList<>();
    servers.forEach(s -> locals.add(((JsonObject) s).getJsonObject("metric").getString("local")));
    for (int port : ports.values()) {
      assertThat(locals).contains("127.0.0.1:" + port);
    }
    assertThat(prometheus.vector("jvm_memory_used_bytes{area=\"heap\"}")).isNotEmpty();
    assertThat(prometheus.vector("process_files_open_files")).isNotEmpty();
  }

  @Test
  @Order(4)
  void everyDashboardQueryShouldParseAndReturnData() throws Exception {
    List<String> expressions = new ArrayList<>();
    collectExpressions(new JsonObject(Files.readString(Path.of("grafana/postern.json"))),
        expressions);
    assertThat(expressions).hasSizeGreaterThan(15);
    for (String expr : expressions) {
      String promql = expr.replace("$__rate_interval", "1m").replace("${__rate_interval}", "1m")
          .replace("$instance", ".*").replace("${instance}", ".*");
      JsonObject answer = prometheus.query(promql);
      assertThat(answer.getString("status")).as("%s → %s", promql, answer.encode())
          .isEqualTo("success");
      JsonObject data = answer.getJsonObject("data");
      assertThat(data.getJsonArray("result")).as("%s returned no data", promql).isNotEmpty();
    }
  }

  @Test
  @Order(5)
  void promtoolShouldAcceptTheScrapeAndTheAlertRules() throws Exception {
    String promtool = RealParts.require("promtool").toString();
    Path scrape = dir.resolve("scrape.txt");
    Files.writeString(scrape, get("/metrics").body());
    ProcessResult r = ExternalCommand.run(List.of("sh", "-c",
        promtool + " check metrics < " + scrape), Duration.ofSeconds(60));
    assertThat(r.exitCode()).as("%s", r).isZero();
    r = ExternalCommand.run(List.of(promtool, "check", "rules", "deploy/prometheus/alerts.yml"),
        Duration.ofSeconds(60));
    assertThat(r.exitCode()).as("%s", r).isZero();
    r = ExternalCommand.run(List.of(promtool, "test", "rules",
        "deploy/prometheus/alerts.test.yml"), Duration.ofSeconds(60));
    assertThat(r.exitCode()).as("%s", r).isZero();
    r = ExternalCommand.run(List.of(promtool, "check", "config",
        "deploy/prometheus/prometheus.yml"), Duration.ofSeconds(60));
    assertThat(r.exitCode()).as("%s", r).isZero();
    // The real Prometheus loaded the shipped rules too, and none of them fires here.
    JsonObject rules = prometheus.rules();
    assertThat(rules.encode()).contains("PosternCertificateExpiringSoon");
    assertThat(rules.encode()).doesNotContain("\"state\":\"firing\"");
  }

  @Test
  @Order(6)
  void thePasswordShouldAppearNowhereAndEveryLogLineShouldBeJson() throws Exception {
    String metrics = get("/metrics").body();
    String plainBlob = Base64.getEncoder().encodeToString(
        ("\0alice\0" + canary).getBytes(StandardCharsets.UTF_8));
    for (String secret : List.of(canary, plainBlob,
        Base64.getEncoder().encodeToString(canary.getBytes(StandardCharsets.UTF_8)))) {
      assertThat(metrics).doesNotContain(secret);
      assertThat(postern.output()).doesNotContain(secret);
    }
    assertThat(metrics).doesNotContain("alice");
    List<JsonObject> sessions = new ArrayList<>();
    for (String line : postern.output().split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonObject json = new JsonObject(line);
      assertThat(json.getString("level")).isNotBlank();
      if ("postern.session".equals(json.getString("logger"))) {
        sessions.add(json);
      }
    }
    assertThat(sessions).isNotEmpty();
    JsonObject relayed = sessions.stream()
        .filter(s -> "imaps".equals(s.getString("listener")) && "alice".equals(s.getString("user"))
            && s.getLong("to_client") > 20_000)
        .findFirst().orElseThrow();
    assertThat(relayed.getString("tls")).isEqualTo("TLSv1.3");
    assertThat(relayed.getString("backend")).isEqualTo("default");
    assertThat(relayed.getString("protocol")).isEqualTo("imap");
    assertThat(relayed.getString("client")).startsWith("127.0.0.1:");
    assertThat(relayed.getDouble("duration")).isGreaterThanOrEqualTo(0.0);
  }

  private double sum(String selector) throws Exception {
    double v = prometheus.value("sum(" + selector + ")");
    assertThat(v).as("%s has no series", selector).isNotNaN();
    return v;
  }

  /**
   * Waits for a scrape taken after every session has ended (Postern closes its side a moment
   * after the client has gone): then every counter Prometheus holds is final.
   */
  private void awaitScrapeAfterTheSessions() {
    double clientsDone = System.currentTimeMillis() / 1000.0;
    Awaitility.await().atMost(Duration.ofSeconds(20)).until(() ->
        prometheus.value("timestamp(up{job=\"postern\"})") > clientsDone
            && prometheus.value("sum(postern_connections_active)") == 0);
  }

  private static void collectExpressions(Object node, List<String> into) {
    if (node instanceof JsonObject o) {
      for (Map.Entry<String, Object> e : o) {
        if (e.getKey().equals("expr") && e.getValue() instanceof String s && !s.isBlank()) {
          into.add(s);
        } else {
          collectExpressions(e.getValue(), into);
        }
      }
    } else if (node instanceof JsonArray a) {
      a.forEach(x -> collectExpressions(x, into));
    }
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(postern.adminUrl() + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
