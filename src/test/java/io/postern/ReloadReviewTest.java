package io.postern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.postern.admin.AdminActions;
import io.postern.config.AuthConfig;
import io.postern.config.BackendConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.metrics.MeteredVertx;
import io.postern.metrics.PosternMeters;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.Future;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.net.ConnectException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a review of the reload, the admin API and the drain found, each as the operator would
 * meet it: a backend added by a reload usable from the passwd-file, session counts that survive
 * a backends reload, a reload that failed part-way answered as such, a first TLS listener added
 * by a reload, and a right token that wrong ones cannot lock out.
 */
class ReloadReviewTest {

  private static final String TOKEN = "review-token-0123456789abcdef";

  @TempDir
  Path dir;

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
    postern = PosternFixture.builder(dir.resolve("postern")).user("alice", "pw")
        .backend(first.port(), 1).plaintextListeners().cleartext(AuthConfig.Cleartext.ALLOW)
        .adminTokenFile(token).shutdown(Duration.ofSeconds(6), Duration.ofSeconds(4)).start();
  }

  @AfterEach
  void stop() throws Exception {
    postern.close();
    first.close();
    second.close();
  }

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
    Path passwd = dir.resolve("postern").resolve("users.passwd");
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

  private static PosternConfig withListeners(PosternConfig config, List<ListenerConfig> l) {
    return new PosternConfig(l, config.tls(), config.auth(), config.backends(), config.limits(),
        config.admin(), config.logging());
  }

  private Conversation loggedInAt(int port) throws IOException {
    Conversation c = MailClient.plain(port, postern.tls());
    c.expect("* OK");
    c.send("a LOGIN alice pw\r\n");
    assertThat(c.readLine()).startsWith("a OK");
    return c;
  }
}
