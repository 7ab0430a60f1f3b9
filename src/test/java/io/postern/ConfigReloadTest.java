package io.postern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.postern.admin.AdminActions;
import io.postern.config.AuthConfig;
import io.postern.config.BackendConfig;
import io.postern.config.CertificateFiles;
import io.postern.config.LimitsConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsConfig;
import io.postern.config.TlsMode;
import io.postern.metrics.MeteredVertx;
import io.postern.metrics.PosternMeters;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.ServedCertificate;
import io.postern.testing.TestTls;
import io.vertx.core.Future;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reloaded configuration as clients see it: new sessions get the new backends, limits and
 * listeners, while a session logged in before the reload keeps relaying to where it began. The
 * last cases are what a review of issue 12 found: a backend added by a reload usable from the
 * passwd-file, session counts that survive a backends reload, a reload that failed part-way
 * answered as such, a first TLS listener added by a reload, a right token that wrong ones cannot
 * lock out.
 */
class ConfigReloadTest {

  @TempDir
  Path dir;

  private static final String TOKEN = "reload-test-token-0123456789abcdef";

  private FakeBackend first;
  private FakeBackend second;
  private PosternFixture postern;

  @BeforeEach
  void start() throws Exception {
    first = FakeBackend.start(server("first"), TestTls.shared("localhost"));
    second = FakeBackend.start(server("second"), TestTls.shared("localhost"));
    Path token = dir.resolve("admin.token");
    Files.writeString(token, TOKEN + "\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    postern = PosternFixture.builder(dir).user("alice", "pw").backend(first.port(), 1)
        .plaintextListeners().cleartext(AuthConfig.Cleartext.ALLOW).adminTokenFile(token)
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    postern.close();
    first.close();
    second.close();
  }

  /** A backend whose every reply names it. */
  private static FakeBackend.Script server(String name) {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] " + name + " ready\r\n");
      String login = c.readLine();
      c.send(login.split(" ")[0] + " OK [CAPABILITY IMAP4rev1] Logged in\r\n");
      BackendScripts.imapCommands(name).run(c);
    };
  }

  /** As ConfigReload does: the running auth source is kept only where it still fits. */
  private List<String> reload(PosternConfig next) throws Exception {
    PosternServer.Resources resources = PosternServer.load(postern.vertx(), next,
        ConfigReload.keepsAuthSource(postern.server().config(), next)
            ? postern.server().resources().authenticator() : null);
    return postern.server().reload(resources).await();
  }

  private PosternConfig withDefaultBackendAt(PosternConfig config, int port) {
    Map<String, BackendConfig> backends = new HashMap<>(config.backends());
    backends.put("default", new BackendConfig("default", "127.0.0.1",
        new BackendConfig.Endpoint(port, TlsMode.NONE), new BackendConfig.Endpoint(1,
        TlsMode.NONE), true, null));
    return config.withBackends(backends);
  }

  private static PosternConfig withListeners(PosternConfig config, List<ListenerConfig> l) {
    return new PosternConfig(l, config.tls(), config.auth(), config.backends(), config.limits(),
        config.admin(), config.logging());
  }

  private Conversation loggedIn() throws IOException {
    Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls());
    c.expect("* OK");
    c.send("a LOGIN alice pw\r\n");
    assertThat(c.readLine()).startsWith("a OK");
    return c;
  }

  private static String whoAnswers(Conversation c) throws IOException {
    c.send("w WHOAMI\r\n");
    String line = c.readLine();
    assertThat(c.readLine()).isEqualTo("w OK done");
    return line;
  }

  @Test
  void newLoginsShouldGoToTheReloadedBackendWhileAnOpenSessionKeepsItsOwn() throws Exception {
    try (Conversation before = loggedIn()) {
      assertThat(whoAnswers(before)).isEqualTo("* WHOAMI first");

      List<String> changes = reload(withDefaultBackendAt(postern.config(), second.port()));

      assertThat(changes).anyMatch(c -> c.startsWith("backends"));
      try (Conversation after = loggedIn()) {
        assertThat(whoAnswers(after)).isEqualTo("* WHOAMI second");
      }
      assertThat(whoAnswers(before)).as("the session logged in before the reload")
          .isEqualTo("* WHOAMI first");
    }
  }

  @Test
  void anAddedListenerShouldServeAndARemovedOneShouldStopAccepting() throws Exception {
    PosternConfig config = postern.config();
    List<ListenerConfig> more = new ArrayList<>(config.listeners());
    more.add(new ListenerConfig("imap-extra", Protocol.IMAP, "127.0.0.1", 0, TlsMode.NONE,
        false));

    assertThat(reload(withListeners(config, more)))
        .contains("listener imap-extra added on 127.0.0.1:0");
    int port = postern.port("imap-extra");
    try (Conversation c = MailClient.plain(port, postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice pw\r\n");
      assertThat(c.readLine()).startsWith("a OK");

      assertThat(reload(config)).contains("listener imap-extra removed");

      // Its open session is drained, and nothing is accepted on its port any more.
      await().atMost(Duration.ofSeconds(10)).until(() -> c.closedByPeer(100));
    }
    assertThatThrownBy(() -> MailClient.plain(port, postern.tls()))
        .isInstanceOf(ConnectException.class);
    assertThatThrownBy(() -> postern.port("imap-extra")).hasMessageContaining("imap-extra");
    // The listeners that stayed serve as before.
    try (Conversation c = loggedIn()) {
      assertThat(whoAnswers(c)).isEqualTo("* WHOAMI first");
    }
  }

  @Test
  void aListenerWhoseTlsChangesShouldBeReboundOnTheSamePort() throws Exception {
    int port = portOutsideTheEphemeralRange();
    PosternConfig config = postern.config();
    List<ListenerConfig> plain = new ArrayList<>(config.listeners());
    plain.add(new ListenerConfig("moving", Protocol.IMAP, "127.0.0.1", port, TlsMode.NONE,
        false));
    List<ListenerConfig> starttls = new ArrayList<>(config.listeners());
    starttls.add(new ListenerConfig("moving", Protocol.IMAP, "127.0.0.1", port,
        TlsMode.STARTTLS, false));
    reload(withListeners(config, plain));
    try (Conversation c = MailClient.plain(port, postern.tls())) {
      c.send("a CAPABILITY\r\n");
      assertThat(c.readUntil("a ")).noneMatch(line -> line.contains("STARTTLS"));
    }

    assertThat(reload(withListeners(config, starttls)))
        .contains("listener moving rebound to 127.0.0.1:" + port);

    assertThat(postern.port("moving")).isEqualTo(port);
    try (Conversation c = MailClient.plain(port, postern.tls())) {
      c.send("a CAPABILITY\r\n");
      assertThat(c.readUntil("a ")).anyMatch(line -> line.contains("STARTTLS"));
    }
  }

  @Test
  void otherCertificateFilesShouldReachNewHandshakesOnEveryListenerAndSpareOpenSessions()
      throws Exception {
    TestTls other = TestTls.forHost("localhost");
    PosternConfig config = postern.config();
    try (Conversation before = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      before.expect("* OK");

      List<String> changes = reload(config.withTls(new TlsConfig(
          List.of(new CertificateFiles(other.certPath(), other.keyPath())),
          config.tls().protocols(), config.tls().engine(), config.tls().watchInterval())));

      assertThat(changes).contains("TLS certificates loaded");
      String serial = ServedCertificate.serial(other.certPath());
      assertThat(ServedCertificate.serial(postern.port("imaps"), ServedCertificate.Path.IMPLICIT))
          .isEqualTo(serial);
      assertThat(ServedCertificate.serial(postern.port("imap"),
          ServedCertificate.Path.IMAP_STARTTLS)).isEqualTo(serial);
      assertThat(ServedCertificate.serial(postern.port("pop3s"), ServedCertificate.Path.IMPLICIT))
          .isEqualTo(serial);
      before.send("a LOGIN alice pw\r\n");
      assertThat(before.readLine()).as("a session in TLS from before").startsWith("a OK");
    }
  }

  /**
   * A port that no client connection of this busy JVM can hold: a port the OS picked for a
   * listener (Ports.free) may be some outgoing connection's local port a moment later, and a
   * listener cannot bind it then (seen in CI).
   */
  private static int portOutsideTheEphemeralRange() throws IOException {
    java.util.Random random = new java.util.Random();
    for (int i = 0; i < 200; i++) {
      int port = 20_000 + random.nextInt(12_000);
      try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
        probe.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (IOException taken) {
        // Another one.
      }
    }
    throw new IOException("no free port in 20000-31999");
  }

  @Test
  void aChangedLimitShouldApplyToSessionsThatBeginAfterTheReload() throws Exception {
    try (Conversation before = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      before.expect("* OK");
      LimitsConfig l = postern.config().limits();
      reload(postern.config().withLimits(new LimitsConfig(l.preauthTimeout(), l.idleTimeout(),
          l.handshakeTimeout(), l.backendConnectTimeout(), l.backendLoginTimeout(), l.maxLine(),
          l.maxLiteral(), 1, l.maxConnections(), l.maxConnectionsPerIp(), l.trustedNetworks(),
          l.shutdownGrace(), l.connectionRatePerIp(), l.handshakeRatePerIp(),
          l.descriptorReserve(), l.drainWindow())));

      try (Conversation after = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
        after.expect("* OK");
        after.send("a FROB\r\n");
        assertThat(after.readLine()).startsWith("a BAD");
        assertThat(after.readLine()).as("max-bad-commands is 1 now").startsWith("* BYE");
      }
      before.send("a FROB\r\n");
      assertThat(before.readLine()).as("max-bad-commands was 5 when it began")
          .startsWith("a BAD");
      before.send("b NOOP\r\n");
      assertThat(before.readLine()).startsWith("b OK");
    }
  }

  @Test
  void aNewPasswdFileShouldDecideNewLoginsAndTheOldSourceShouldNotBeAskedAgain()
      throws Exception {
    Path other = dir.resolve("other.passwd");
    Files.writeString(other, PosternFixture.passwdLine("bob", "pw-bob", "") + "\n");
    PosternConfig config = postern.config();
    AuthConfig a = config.auth();
    PosternConfig next = new PosternConfig(config.listeners(), config.tls(),
        new AuthConfig(a.source(), other, a.http(), a.cleartext(), a.failureDelay(),
            a.maxAttempts(), a.cache(), a.throttle(), a.hashing()),
        config.backends(), config.limits(), config.admin(), config.logging());
    var before = postern.server().shared().authenticator();

    List<String> changes = postern.server().reload(
        PosternServer.load(postern.vertx(), next, null)).await();

    assertThat(changes).contains("auth source passwd-file loaded");
    assertThat(postern.server().shared().authenticator()).isNotSameAs(before);
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice pw\r\n");
      assertThat(c.readLine()).startsWith("a NO [AUTHENTICATIONFAILED]");
      c.send("b LOGIN bob pw-bob\r\n");
      assertThat(c.readLine()).startsWith("b OK");
    }
  }

  @Test
  void unchangedAuthSettingsShouldKeepTheRunningAuthSourceAndItsCache() throws Exception {
    var before = postern.server().shared().authenticator();

    assertThat(reload(postern.config())).isEmpty();

    assertThat(postern.server().shared().authenticator()).isSameAs(before);
    try (Conversation c = loggedIn()) {
      assertThat(whoAnswers(c)).isEqualTo("* WHOAMI first");
    }
  }

  @Test
  void aReloadWhileDrainingShouldBeRefused() throws Exception {
    postern.server().drain("drained");

    assertThatThrownBy(() -> reload(postern.config())).hasMessageContaining("draining");
  }

  // ---- Found by the review of issue 12.

  private PosternConfig withSecondBackend() {
    Map<String, BackendConfig> backends = new HashMap<>(postern.config().backends());
    backends.put("second", new BackendConfig("second", "127.0.0.1",
        new BackendConfig.Endpoint(second.port(), TlsMode.NONE),
        new BackendConfig.Endpoint(1, TlsMode.NONE), true, null));
    return postern.server().config().withBackends(backends);
  }

  private String loginAnswer(String user, String password) throws IOException {
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN " + user + " " + password + "\r\n");
      String reply = c.readLine();
      if (!reply.startsWith("a OK")) {
        return reply;
      }
      c.send("w WHOAMI\r\n");
      return c.readLine();
    }
  }

  /**
   * A reload that keeps the passwd-file source (auth unchanged) keeps its set of backend names
   * from the first load: after adding backend "second" by reload, routing a user to it in the
   * passwd file is refused at the file's re-read ("backend 'second' is not defined"), until a
   * restart. (PosternServer.load / ConfigReload.reloadNow: keep = running authenticator.)
   */
  @Test
  void aBackendAddedByReloadShouldBeUsableFromThePasswdFile() throws Exception {
    reload(withSecondBackend());
    Path passwd = postern.config().auth().passwdFile();
    Files.writeString(passwd, PosternFixture.passwdLine("alice", "pw", "") + "\n"
        + PosternFixture.passwdLine("bob", "pw-bob", "backend=second") + "\n");

    await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(500)).untilAsserted(
        () -> assertThat(loginAnswer("bob", "pw-bob")).isEqualTo("* WHOAMI second"));
  }

  /**
   * A backends reload builds new pools whose per-server session counts start at 0: sessions
   * logged in before are no longer counted (postern_backend_sessions, least-connections).
   */
  @Test
  void aBackendsReloadShouldKeepCountingTheSessionsInProgress() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice pw\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      assertThat(postern.server().shared().backends().get("default").sessions(0)).isEqualTo(1);

      reload(withSecondBackend());

      assertThat(postern.server().shared().backends().get("default").sessions(0))
          .as("alice's session still relays through default's server")
          .isEqualTo(1);
    }
  }

  /** A reload that stopped part-way (a new listener could not bind) is not a success. */
  @Test
  void aReloadThatFailedHalfWayShouldNotBeAnsweredAsASuccess() throws Exception {
    int taken;
    try (java.net.ServerSocket other = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getLoopbackAddress())) {
      taken = other.getLocalPort();
      List<ListenerConfig> more = new java.util.ArrayList<>(postern.config().listeners());
      more.add(new ListenerConfig("imaps2", Protocol.IMAP, "127.0.0.1", taken, TlsMode.IMPLICIT,
          false));
      List<String> changes = new java.util.ArrayList<>();
      PosternConfig next = withListeners(postern.config(), more);
      assertThatThrownBy(() -> postern.server().reload(PosternServer.load(postern.vertx(), next,
          postern.server().resources().authenticator()), changes).await())
          .hasMessageContaining("imaps2");
      assertThat(changes).contains("listener imaps2 added on 127.0.0.1:" + taken);
    }
    postern.server().adminReload(() -> Future.succeededFuture(new AdminActions.Reload(false,
        List.of("listener imaps2: 127.0.0.1:993 is in use"), List.of("listener imaps2 added"))));
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(postern.adminUrl() + "/api/reload"))
        .header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(r.body()).contains("failed part-way", "is in use", "listener imaps2 added");
  }

  /**
   * A Postern started with plaintext listeners only has no TLS holder; a reload that adds an
   * implicit-TLS listener with the same (unchanged) tls section does not create one
   * (TlsWatch.reload only looks at whether the tls section changed), so the new listener gets
   * null TLS.
   */
  @Test
  void aTlsListenerAddedByReloadShouldServeTlsWhenTheTlsSectionIsUnchanged() throws Exception {
    PosternConfig base = postern.config();
    ListenerConfig plain = new ListenerConfig("plain", Protocol.IMAP, "127.0.0.1", 0,
        TlsMode.NONE, false);
    PosternConfig plainOnly = new PosternConfig(List.of(plain), base.tls(), base.auth(),
        base.backends(), base.limits(), base.admin(), base.logging());
    PosternServer.Resources resources = PosternServer.load(postern.vertx(), plainOnly, null);
    PosternMeters meters = new PosternMeters(MeteredVertx.registry(), plainOnly,
        resources.authenticator().source(), "test");
    PosternServer server = PosternServer.start(postern.vertx(), resources, 1, meters).await();
    try {
      PosternConfig withTls = new PosternConfig(List.of(plain, new ListenerConfig("tls",
          Protocol.IMAP, "127.0.0.1", 0, TlsMode.IMPLICIT, false)), base.tls(), base.auth(),
          base.backends(), base.limits(), base.admin(), base.logging());
      server.reload(PosternServer.load(postern.vertx(), withTls,
          server.resources().authenticator())).await();

      try (Conversation c = MailClient.implicitTls(server.port("tls"), postern.tls())) {
        c.expect("* OK");
      }
    } finally {
      server.stop().await();
    }
  }

  private HttpResponse<String> post(String path, String token) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create(postern.adminUrl() + path))
        .header("Authorization", "Bearer " + token)
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Anyone who reaches the admin port from the operator's address (every local process on
   * loopback, everything behind kubectl port-forward) locks the operator out: five wrong tokens
   * a minute and the right token is refused (429) too.
   */
  @Test
  void wrongTokensFromTheSameAddressShouldNotLockOutTheRightToken() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(post("/api/servers/undrain?server=default/127.0.0.1", "guess-" + i).statusCode())
          .isEqualTo(401);
    }
    HttpResponse<String> r = post("/api/servers/undrain?server=default/127.0.0.1", TOKEN);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }
}
