package io.postern.metrics;

import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.TlsMode;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.CountingAuthenticator;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The series a Prometheus user sees on {@code /metrics} after real client sessions: every value
 * is read over HTTP from the admin endpoint and compared as a delta, since one Postern serves the
 * whole class (the connection-limit test has its own).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetricsTest {

  private static final String CAPS = "IMAP4rev1 LITERAL+ ID";
  private static final String PW = "alice-pw";
  private static final Duration WAIT = Duration.ofSeconds(5);

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");
  private final CountingAuthenticator auth = new CountingAuthenticator();
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private FakeBackend backend;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    backend = FakeBackend.start(BackendScripts.imap(CAPS, "alice", PW,
        BackendScripts.imapCommands("alice")), tls);
    int dead = Ports.closed();
    postern = PosternFixture.builder(dir.resolve("shared"))
        .user("alice", PW)
        .maxAttempts(1000)
        .backend(backend.port(), 1)
        // "bob" is routed to a backend nobody listens on.
        .backend("dead", "127.0.0.1", dead, TlsMode.NONE, dead, TlsMode.NONE, true, null)
        .passwdLine(passwdLine("bob", PW, "backend=dead"))
        .wrapAuthenticator(auth::around)
        .start();
  }

  @BeforeEach
  void resetCounts() {
    auth.reset();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  void anImapsLoginAndRelayShouldShowInEverySeriesItTouches() throws Exception {
    Scrape before = scrape(postern);
    String[] toBackend = {"b NOOP\r\n", "c LOGOUT\r\n"};
    String[] toClient = {"b OK NOOP completed\r\n",
        "* BYE backend logging out\r\nc OK LOGOUT completed\r\n"};
    String version;
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), tls)) {
      version = c.tlsProtocol();
      c.expect("* OK");
      c.send("a LOGIN alice " + PW + "\r\n");
      c.expect("a OK");
      // Relayed from here on: exactly these bytes pass in each direction.
      c.send(toBackend[0]);
      assertThat(c.readLine() + "\r\n").isEqualTo(toClient[0]);
      await().atMost(WAIT).untilAsserted(() -> assertThat(
          scrape(postern).get("postern_sessions_active", "protocol", "imap")).isEqualTo(1.0));
      c.send(toBackend[1]);
      assertThat(String.join("\r\n", c.readUntil("c ")) + "\r\n").isEqualTo(toClient[1]);
      assertThat(c.closedByPeer(5000)).isTrue();
    }
    await().atMost(WAIT).untilAsserted(() -> {
      Scrape now = scrape(postern);
      assertThat(now.get("postern_sessions_active", "protocol", "imap")).isEqualTo(0.0);
      assertThat(now.delta(before, "postern_session_duration_seconds_count", "protocol", "imap"))
          .isEqualTo(1.0);
      assertThat(now.get("postern_connections_active", "listener", "imaps", "protocol", "imap"))
          .isEqualTo(0.0);
    });
    Scrape after = scrape(postern);

    assertThat(after.delta(before, "postern_connections_total",
        "listener", "imaps", "protocol", "imap")).isEqualTo(1.0);
    assertThat(version).isIn("TLSv1.3", "TLSv1.2");
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imaps", "result", "success", "version", version)).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imaps", "result", "failure", "version", "none")).isZero();
    assertThat(after.delta(before, "postern_logins_total",
        "protocol", "imap", "mechanism", "login", "result", "success")).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_relay_bytes_total",
        "protocol", "imap", "direction", "to_backend"))
        .isEqualTo((double) bytes(toBackend));
    assertThat(after.delta(before, "postern_relay_bytes_total",
        "protocol", "imap", "direction", "to_client"))
        .isEqualTo((double) bytes(toClient));
    assertThat(after.delta(before, "postern_auth_duration_seconds_count",
        "source", "passwd-file")).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_backend_connect_duration_seconds_count",
        "backend", "default")).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_session_duration_seconds_count",
        "protocol", "imap")).isEqualTo(1.0);
    // Nothing spilled over to POP3 or to failures.
    assertThat(after.delta(before, "postern_relay_bytes_total",
        "protocol", "pop3", "direction", "to_client")).isZero();
    assertThat(after.delta(before, "postern_logins_total",
        "protocol", "imap", "mechanism", "login", "result", "failure")).isZero();
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void aWrongPasswordShouldCountAsAFailedLogin() throws Exception {
    Scrape before = scrape(postern);
    try (Conversation c = imaps()) {
      c.send("a LOGIN alice wrong\r\n");
      c.expect("a NO [AUTHENTICATIONFAILED]");
    }
    await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(postern).delta(before,
        "postern_logins_total", "protocol", "imap", "mechanism", "login", "result", "failure"))
        .isEqualTo(1.0));
    Scrape after = scrape(postern);
    assertThat(after.delta(before, "postern_logins_total",
        "protocol", "imap", "mechanism", "login", "result", "success")).isZero();
    assertThat(after.delta(before, "postern_auth_duration_seconds_count",
        "source", "passwd-file")).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_backend_connect_duration_seconds_count",
        "backend", "default")).isZero();
  }

  @Test
  void aLoginBeforeStartTlsShouldCountAsCleartextRefusedWithoutAskingTheAuthSource()
      throws Exception {
    Scrape before = scrape(postern);
    try (Conversation c = MailClient.plain(postern.port("imap"), tls)) {
      c.expect("* OK");
      c.send("a LOGIN alice " + PW + "\r\n");
      c.expect("a NO [PRIVACYREQUIRED]");
    }
    await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(postern).delta(before,
        "postern_logins_total", "protocol", "imap", "mechanism", "login",
        "result", "cleartext_refused")).isEqualTo(1.0));
    Scrape after = scrape(postern);
    assertThat(auth.calls()).isZero();
    assertThat(after.delta(before, "postern_auth_duration_seconds_count",
        "source", "passwd-file")).isZero();
    assertThat(after.delta(before, "postern_logins_total",
        "protocol", "imap", "mechanism", "login", "result", "failure")).isZero();
    assertThat(after.delta(before, "postern_connections_total",
        "listener", "imap", "protocol", "imap")).isEqualTo(1.0);
  }

  @Test
  void userAndPassBeforeStlsShouldCountAsCleartextRefusedForMechanismUser() throws Exception {
    Scrape before = scrape(postern);
    try (Conversation c = MailClient.plain(postern.port("pop3"), tls)) {
      c.expect("+OK");
      c.send("USER alice\r\n");
      c.expect("-ERR");
      c.send("PASS " + PW + "\r\n");
      c.expect("-ERR [AUTH] Plaintext authentication is disabled");
    }
    await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(postern).delta(before,
        "postern_logins_total", "protocol", "pop3", "mechanism", "user",
        "result", "cleartext_refused")).isEqualTo(1.0));
    Scrape after = scrape(postern);
    assertThat(auth.calls()).isZero();
    assertThat(after.delta(before, "postern_auth_duration_seconds_count",
        "source", "passwd-file")).isZero();
    assertThat(after.delta(before, "postern_connections_total",
        "listener", "pop3", "protocol", "pop3")).isEqualTo(1.0);
  }

  @Test
  void anUnreachableBackendShouldCountAsUnavailableAndAsABackendError() throws Exception {
    Scrape before = scrape(postern);
    try (Conversation c = imaps()) {
      c.send("a LOGIN bob " + PW + "\r\n");
      c.expect("a NO [UNAVAILABLE]");
    }
    await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(postern).delta(before,
        "postern_logins_total", "protocol", "imap", "mechanism", "login",
        "result", "unavailable")).isEqualTo(1.0));
    Scrape after = scrape(postern);
    assertThat(after.delta(before, "postern_backend_errors_total",
        "backend", "dead", "reason", "unreachable")).isEqualTo(1.0);
    for (String reason : List.of("timeout", "protocol", "tls", "unavailable")) {
      assertThat(after.delta(before, "postern_backend_errors_total",
          "backend", "dead", "reason", reason)).as(reason).isZero();
    }
    assertThat(after.delta(before, "postern_backend_connect_duration_seconds_count",
        "backend", "dead")).isZero();
    assertThat(after.delta(before, "postern_logins_total",
        "protocol", "imap", "mechanism", "login", "result", "success")).isZero();
    // The auth source answered; it is the backend that failed.
    assertThat(after.delta(before, "postern_auth_errors_total", "source", "passwd-file"))
        .isZero();
  }

  @Test
  void aStartTlsHandshakeShouldCountOnThePlaintextListener() throws Exception {
    Scrape before = scrape(postern);
    String version;
    try (Conversation c = MailClient.plain(postern.port("imap"), tls)) {
      c.expect("* OK");
      c.send("a STARTTLS\r\n");
      c.expect("a OK");
      c.startTls(true);
      version = c.tlsProtocol();
      c.send("b NOOP\r\n");
      c.expect("b OK");
    }
    assertThat(version).isIn("TLSv1.3", "TLSv1.2");
    await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(postern).delta(before,
        "postern_tls_handshakes_total", "listener", "imap", "result", "success",
        "version", version)).isEqualTo(1.0));
    Scrape after = scrape(postern);
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imaps", "result", "success", "version", version)).isZero();
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imap", "result", "failure", "version", "none")).isZero();
  }

  @Test
  void authenticatePlainShouldCountAsMechanismPlain() throws Exception {
    Scrape before = scrape(postern);
    String initial = Base64.getEncoder().encodeToString(("\0alice\0" + PW)
        .getBytes(StandardCharsets.UTF_8));
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE PLAIN " + initial + "\r\n");
      c.expect("a OK");
      c.send("b LOGOUT\r\n");
      c.readUntil("b ");
    }
    await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(postern).delta(before,
        "postern_logins_total", "protocol", "imap", "mechanism", "plain", "result", "success"))
        .isEqualTo(1.0));
    assertThat(scrape(postern).delta(before, "postern_logins_total",
        "protocol", "imap", "mechanism", "login", "result", "success")).isZero();
  }

  @Test
  void plaintextSentToAnImplicitTlsListenerShouldCountAsAFailedHandshake() throws Exception {
    Scrape before = scrape(postern);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), postern.port("imaps"))) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("a LOGIN alice alice-pw\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // Postern hangs up; whatever it sends is not an IMAP greeting.
      InputStream in = s.getInputStream();
      byte[] got = in.readAllBytes();
      assertThat(new String(got, StandardCharsets.ISO_8859_1)).doesNotContain("* OK");
    }
    Scrape after = awaitHandshakeEnd(before, "imaps");
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imaps", "result", "failure", "version", "none")).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imaps", "result", "closed", "version", "none")).isZero();
    assertThat(after.delta(before, "postern_connections_total",
        "listener", "imaps", "protocol", "imap")).isEqualTo(1.0);
  }

  @Test
  void aTcpConnectAndCloseOnAnImplicitTlsListenerShouldCountAsClosedNotAsFailed()
      throws Exception {
    Scrape before = scrape(postern);
    new Socket(InetAddress.getLoopbackAddress(), postern.port("imaps")).close();
    Scrape after = awaitHandshakeEnd(before, "imaps");
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imaps", "result", "closed", "version", "none")).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imaps", "result", "failure", "version", "none")).isZero();
  }

  /**
   * A client that sends STARTTLS and then stops sending can never finish the handshake: it is
   * closed at once (not at the handshake timeout) and counted as {@code closed}, not failure.
   */
  @Test
  void aClientLeavingDuringStartTlsShouldBeClosedAtOnceAndCountedAsClosed() throws Exception {
    Scrape before = scrape(postern);
    try (Conversation c = MailClient.plain(postern.port("imap"), null)) {
      c.socket().setSoTimeout(4_000);
      assertThat(c.readLine()).startsWith("* OK");
      c.send("a STARTTLS\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      c.shutdownOutput();
      // Within the 4 s read timeout, below the fixture's 5 s handshake timeout.
      assertThat(c.socket().getInputStream().read()).isEqualTo(-1);
    }
    Scrape after = awaitHandshakeEnd(before, "imap");
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imap", "result", "closed", "version", "none")).isEqualTo(1.0);
    assertThat(after.delta(before, "postern_tls_handshakes_total",
        "listener", "imap", "result", "failure", "version", "none")).isZero();
  }

  @Test
  void theCertificateExpiryGaugeShouldBeTheCertificatesNotAfter() throws Exception {
    X509Certificate cert;
    try (InputStream in = Files.newInputStream(tls.certPath())) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    long notAfter = cert.getNotAfter().toInstant().getEpochSecond();
    assertThat(scrape(postern).get("postern_tls_certificate_expiry_timestamp_seconds",
        "certificate", tls.certPath().toString())).isEqualTo((double) notAfter);
  }

  @Test
  void buildInfoAndListenerUpShouldBeThere() throws Exception {
    Scrape now = scrape(postern);
    assertThat(now.get("postern_build_info", "version", "test")).isEqualTo(1.0);
    for (String[] l : List.of(new String[] {"imap", "imap"}, new String[] {"imaps", "imap"},
        new String[] {"pop3", "pop3"}, new String[] {"pop3s", "pop3"})) {
      assertThat(now.get("postern_listener_up", "listener", l[0], "protocol", l[1]))
          .as(l[0]).isEqualTo(1.0);
    }
  }

  @Test
  void failedLoginsWithManyUserNamesShouldAddNoSeriesAndNameNoUser() throws Exception {
    String marker = "zq-cardinality-";
    try (Conversation c = imaps()) {
      // The first attempt creates whatever is created lazily (meters, worker pools).
      c.send("w LOGIN " + marker + "warmup wrong\r\n");
      c.expect("w NO");
      // So do the first scrapes (the admin endpoint's own HTTP series).
      scrape(postern);
      scrape(postern);
      Scrape before = scrape(postern);
      String beforeText = before.text();
      for (int i = 0; i < 200; i++) {
        c.send("a" + i + " LOGIN " + marker + i + "-user wrong-" + i + "\r\n");
        c.expect("a" + i + " NO [AUTHENTICATIONFAILED]");
      }
      await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(postern).delta(before,
          "postern_logins_total", "protocol", "imap", "mechanism", "login",
          "result", "failure")).isEqualTo(200.0));
      Scrape after = scrape(postern);
      assertThat(after.text()).doesNotContain(marker).doesNotContain("wrong-1");
      // Postern's own series, Vert.x's and the process's: not one more. (JVM series such as GC
      // pauses by cause may appear whenever the JVM decides, so those are left out.)
      assertThat(after.seriesCount(MetricsTest::notJvm))
          .isEqualTo(before.seriesCount(MetricsTest::notJvm));
      assertThat(after.series(MetricsTest::notJvm)).isEqualTo(before.series(MetricsTest::notJvm));
      assertThat(countLines(after.text(), MetricsTest::notJvm))
          .isEqualTo(countLines(beforeText, MetricsTest::notJvm));
    }
  }

  @Test
  void connectionLimitsShouldCountRejectionsAndActiveConnectionsShouldReturnToZero()
      throws Exception {
    try (PosternFixture limited = PosternFixture.builder(dir.resolve("limits"))
        .user("alice", PW).backend(backend.port(), 1).connectionLimits(1000, 1).start()) {
      Scrape before = scrape(limited);
      List<Conversation> open = new ArrayList<>();
      try {
        Conversation first = MailClient.plain(limited.port("imap"), tls);
        open.add(first);
        first.expect("* OK");
        Conversation second = MailClient.plain(limited.port("imap"), tls);
        open.add(second);
        assertThat(second.readLine())
            .isEqualTo("* BYE [UNAVAILABLE] Too many connections from your address.");
        assertThat(second.closedByPeer(5000)).isTrue();
        Scrape during = scrape(limited);
        assertThat(during.delta(before, "postern_connections_rejected_total",
            "listener", "imap", "reason", "per_ip")).isEqualTo(1.0);
        assertThat(during.delta(before, "postern_connections_rejected_total",
            "listener", "imap", "reason", "max_connections")).isZero();
        assertThat(during.delta(before, "postern_connections_total",
            "listener", "imap", "protocol", "imap")).isEqualTo(2.0);
        assertThat(during.get("postern_connections_active", "listener", "imap",
            "protocol", "imap")).isEqualTo(1.0);
      } finally {
        for (Conversation c : open) {
          c.close();
        }
      }
      await().atMost(WAIT).untilAsserted(() -> assertThat(scrape(limited)
          .get("postern_connections_active", "listener", "imap", "protocol", "imap"))
          .isEqualTo(0.0));
      assertThat(scrape(limited).delta(before, "postern_connections_rejected_total",
          "listener", "imap", "reason", "per_ip")).isEqualTo(1.0);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private Conversation imaps() throws Exception {
    Conversation c = MailClient.implicitTls(postern.port("imaps"), tls);
    c.expect("* OK");
    return c;
  }

  /** Waits until a handshake on {@code listener} ended one way or the other. */
  private Scrape awaitHandshakeEnd(Scrape before, String listener) {
    AtomicReference<Scrape> seen = new AtomicReference<>();
    await().atMost(WAIT).untilAsserted(() -> {
      Scrape now = scrape(postern);
      seen.set(now);
      assertThat(now.delta(before, "postern_tls_handshakes_total",
          "listener", listener, "result", "failure", "version", "none")
          + now.delta(before, "postern_tls_handshakes_total",
          "listener", listener, "result", "closed", "version", "none")).isEqualTo(1.0);
    });
    return seen.get();
  }

  private static boolean notJvm(String name) {
    return !name.startsWith("jvm_");
  }

  private static long countLines(String text, java.util.function.Predicate<String> names) {
    return text.lines().filter(l -> !l.isBlank() && !l.startsWith("#"))
        .filter(l -> names.test(l.split("[{ ]", 2)[0])).count();
  }

  private static int bytes(String... parts) {
    int n = 0;
    for (String p : parts) {
      n += p.getBytes(StandardCharsets.UTF_8).length;
    }
    return n;
  }

  private Scrape scrape(PosternFixture fixture) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(
            URI.create(fixture.adminUrl() + "/metrics")).timeout(Duration.ofSeconds(10)).GET()
        .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertThat(response.statusCode()).isEqualTo(200);
    return Scrape.parse(response.body());
  }

  /** One series: a metric name and its labels, compared regardless of label order. */
  record Series(String name, Map<String, String> labels) {

    Series {
      labels = new TreeMap<>(labels);
    }

    @Override
    public String toString() {
      return name + labels;
    }
  }

  /** A parsed Prometheus text (or OpenMetrics) exposition. */
  record Scrape(String text, Map<Series, Double> values) {

    static Scrape parse(String text) {
      Map<Series, Double> values = new LinkedHashMap<>();
      for (String line : text.split("\n")) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        ParsedLine parsed = ParsedLine.of(line);
        Double old = values.put(parsed.series(), parsed.value());
        if (old != null) {
          throw new AssertionError("series twice in one scrape: " + parsed.series());
        }
      }
      return new Scrape(text, values);
    }

    /** The value of the series with exactly these labels ({@code name, value, ...}). */
    double get(String name, String... labels) {
      Series wanted = new Series(name, labels(labels));
      Double v = values.get(wanted);
      if (v == null) {
        String candidates = values.keySet().stream().filter(s -> s.name().equals(name))
            .map(Series::toString).collect(Collectors.joining("\n  "));
        throw new AssertionError("no series " + wanted + " in the scrape; with that name:\n  "
            + (candidates.isEmpty() ? "(none)" : candidates));
      }
      return v;
    }

    /** This scrape's value minus {@code before}'s. */
    double delta(Scrape before, String name, String... labels) {
      return get(name, labels) - before.get(name, labels);
    }

    Set<Series> series(java.util.function.Predicate<String> names) {
      Set<Series> out = new HashSet<>();
      values.keySet().stream().filter(s -> names.test(s.name())).forEach(out::add);
      return out;
    }

    long seriesCount(java.util.function.Predicate<String> names) {
      return values.keySet().stream().filter(s -> names.test(s.name())).count();
    }

    private static Map<String, String> labels(String... kv) {
      if (kv.length % 2 != 0) {
        throw new IllegalArgumentException("labels come in name, value pairs");
      }
      Map<String, String> out = new TreeMap<>();
      for (int i = 0; i < kv.length; i += 2) {
        out.put(kv[i], kv[i + 1]);
      }
      return out;
    }
  }

  /** {@code name{a="x",b="y"} value [timestamp]}, with the text format's escapes in values. */
  record ParsedLine(Series series, double value) {

    static ParsedLine of(String line) {
      int i = 0;
      while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
        i++;
      }
      String name = line.substring(0, i);
      Map<String, String> labels = new TreeMap<>();
      if (i < line.length() && line.charAt(i) == '{') {
        i++;
        while (line.charAt(i) != '}') {
          int eq = line.indexOf('=', i);
          String label = line.substring(i, eq).trim();
          if (line.charAt(eq + 1) != '"') {
            throw new AssertionError("unquoted label value in: " + line);
          }
          StringBuilder value = new StringBuilder();
          int j = eq + 2;
          for (; line.charAt(j) != '"'; j++) {
            char ch = line.charAt(j);
            if (ch == '\\') {
              char next = line.charAt(++j);
              value.append(next == 'n' ? '\n' : next);
            } else {
              value.append(ch);
            }
          }
          labels.put(label, value.toString());
          i = j + 1;
          if (line.charAt(i) == ',') {
            i++;
          }
        }
        i++;
      }
      String[] rest = line.substring(i).trim().split(" ");
      return new ParsedLine(new Series(name, labels), parseValue(rest[0]));
    }

    private static double parseValue(String text) {
      return switch (text) {
        case "+Inf" -> Double.POSITIVE_INFINITY;
        case "-Inf" -> Double.NEGATIVE_INFINITY;
        case "NaN" -> Double.NaN;
        default -> Double.parseDouble(text);
      };
    }
  }
}
