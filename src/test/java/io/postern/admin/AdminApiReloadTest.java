package io.postern.admin;

import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.postern.PosternServer;
import io.postern.backend.HashRing;
import io.postern.config.AdminConfig;
import io.postern.config.BackendConfig;
import io.postern.config.BackendConfig.Balance;
import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.BackendConfig.HealthCheck;
import io.postern.config.BackendConfig.Server;
import io.postern.config.PosternConfig;
import io.postern.config.TlsMode;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API on a Postern of its own per test: across configuration reloads (a drained
 * server stays drained when the backends are reloaded, the token file is the one the running
 * configuration names), and with real sessions.
 */
class AdminApiReloadTest {

  private static final String PW = "secret";
  private static final Duration WINDOW = Duration.ofSeconds(2);

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  private FakeBackend a;
  private FakeBackend b;
  private Path tokenFile;
  private PosternFixture postern;

  @BeforeEach
  void start() throws Exception {
    TestTls tls = TestTls.shared("localhost");
    a = FakeBackend.start(AdminApiTestScripts.answering("pool-a", PW), tls);
    b = FakeBackend.start(AdminApiTestScripts.answering("pool-b", PW), tls);
    tokenFile = token("admin.token", "first-token-0123456789abcdef");
    PosternFixture.Builder builder = PosternFixture.builder(dir.resolve("postern"))
        .adminTokenFile(tokenFile).shutdown(Duration.ofSeconds(10), WINDOW);
    builder.backend(pool());
    builder.passwdLine(passwdLine(userOnA(), PW, "backend=pool"));
    postern = builder.start();
  }

  @AfterEach
  void stop() throws Exception {
    postern.close();
    a.close();
    b.close();
  }

  @Test
  void aDrainedServerShouldStayDrainedWhenTheBackendsAreReloaded() throws Exception {
    assertThat(post("/api/servers/drain?server=pool/a", "first-token-0123456789abcdef")
        .statusCode()).isEqualTo(200);
    assertThat(login()).contains("pool-b");

    // A new backend: the pools are built anew from the new configuration.
    Map<String, BackendConfig> backends = new LinkedHashMap<>(postern.server().config()
        .backends());
    backends.put("extra", new BackendConfig("extra", "127.0.0.1",
        new BackendConfig.Endpoint(1, TlsMode.NONE), new BackendConfig.Endpoint(1,
        TlsMode.NONE), true, null));
    List<String> changes = reload(postern.server().config().withBackends(backends));
    assertThat(changes).anyMatch(c -> c.startsWith("backends"));

    assertThat(login()).as("still drained after the reload").contains("pool-b");
    assertThat(drainedGauge()).isEqualTo(1);
    assertThat(post("/api/servers/undrain?server=a", "first-token-0123456789abcdef")
        .statusCode()).isEqualTo(200);
    assertThat(login()).as("the reloaded pools were undrained").contains("pool-a");
    assertThat(drainedGauge()).isZero();
  }

  @Test
  void theTokenFileShouldBeTheOneTheRunningConfigurationNames() throws Exception {
    Path second = token("second.token", "second-token-0123456789abcdef");
    reload(withTokenFile(second));
    assertThat(post("/api/servers/undrain?server=a", "first-token-0123456789abcdef")
        .statusCode()).isEqualTo(401);
    assertThat(post("/api/servers/undrain?server=a", "second-token-0123456789abcdef")
        .statusCode()).isEqualTo(200);

    reload(withTokenFile(null));
    HttpResponse<String> off = post("/api/servers/undrain?server=a",
        "second-token-0123456789abcdef");
    assertThat(off.statusCode()).isEqualTo(403);
    assertThat(off.body()).contains("admin.token-file");
  }

  @Test
  void kickShouldListAndEndTheUsersRealSessions() throws Exception {
    String token = "first-token-0123456789abcdef";
    try (Conversation one = loggedIn(); Conversation two = loggedIn()) {
      HttpResponse<String> list = http.send(HttpRequest.newBuilder(URI.create(
              postern.adminUrl() + "/api/sessions?user=" + userOnA().toUpperCase()))
          .header("Authorization", "Bearer " + token).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonObject listed = new JsonObject(list.body());
      assertThat(listed.getInteger("count")).as(list.body()).isEqualTo(2);
      JsonObject first = listed.getJsonArray("sessions").getJsonObject(0);
      assertThat(first.getString("server")).isEqualTo("a");
      assertThat(first.getString("backend")).isEqualTo("pool");
      assertThat(first.getString("tls")).startsWith("TLSv1.");
      assertThat(first.getBoolean("logged_in")).isTrue();
      assertThat(first.getJsonObject("client").getString("ip")).isEqualTo("127.0.0.1");

      HttpResponse<String> kick = post("/api/sessions/kick?user=" + userOnA(), token);
      assertThat(new JsonObject(kick.body()).getInteger("sessions")).isEqualTo(2);
      for (Conversation c : List.of(one, two)) {
        // The goodbye, or a close where the backend was in the middle of a response.
        String seen;
        try {
          seen = c.readLine();
        } catch (java.io.IOException gone) {
          seen = "closed";
        }
        assertThat(seen == null ? "closed" : seen).matches("\\* BYE.*|closed");
        c.close();
      }
    }
  }

  @Test
  void drainingAServerShouldEndItsSessionsSpreadOverTheWindowAndSendNewLoginsElsewhere()
      throws Exception {
    String token = "first-token-0123456789abcdef";
    List<Conversation> clients = new java.util.ArrayList<>();
    io.postern.testing.LogCapture log = io.postern.testing.LogCapture.start();
    try {
      for (int i = 0; i < 4; i++) {
        clients.add(loggedIn());
      }
      long asked = System.nanoTime();
      HttpResponse<String> r = post("/api/servers/drain?server=a", token);
      assertThat(new JsonObject(r.body()).getInteger("sessions")).as(r.body()).isEqualTo(4);
      assertThat(Duration.ofNanos(System.nanoTime() - asked)).as("answered without waiting")
          .isLessThan(WINDOW);
      List<java.util.concurrent.CompletableFuture<Long>> ended = clients.stream()
          .map(c -> java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
              String line = c.readLine();
              assertThat(line == null ? "closed" : line).matches("\\* BYE.*|closed");
            } catch (java.io.IOException gone) {
              // closed
            }
            long at = System.nanoTime() - asked;
            try {
              // As a mail client does after BYE.
              c.close();
            } catch (java.io.IOException e) {
              // already
            }
            return at;
          })).toList();
      List<Long> at = new java.util.ArrayList<>();
      for (var f : ended) {
        at.add(f.get(WINDOW.toSeconds() + 10, java.util.concurrent.TimeUnit.SECONDS));
      }
      long first = java.util.Collections.min(at);
      long last = java.util.Collections.max(at);
      assertThat(Duration.ofNanos(last - first)).as("spread over the window")
          .isGreaterThan(WINDOW.dividedBy(3));
      assertThat(Duration.ofNanos(last)).isLessThan(WINDOW.plusSeconds(3));
      assertThat(login()).as("a new login").contains("pool-b");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> log.lines()
          .stream().filter(l -> l.contains("server=a result=drained")).count() == 4);
    } finally {
      log.stop();
      for (Conversation c : clients) {
        c.close();
      }
    }
  }

  // ------------------------------------------------------------------ helpers

  private Conversation loggedIn() throws Exception {
    Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls());
    c.expect("* OK");
    c.send("t1 LOGIN " + userOnA() + " " + PW + "\r\n");
    assertThat(c.readLine()).startsWith("t1 OK");
    return c;
  }

  private List<String> reload(PosternConfig next) throws Exception {
    PosternServer.Resources resources = PosternServer.load(postern.vertx(), next,
        postern.server().resources().authenticator());
    return postern.server().reload(resources).await();
  }

  private PosternConfig withTokenFile(Path file) {
    PosternConfig c = postern.server().config();
    return new PosternConfig(c.listeners(), c.tls(), c.auth(), c.backends(), c.limits(),
        new AdminConfig(c.admin().address(), c.admin().port(), file), c.logging());
  }

  private BackendConfig pool() {
    return new BackendConfig("pool", List.of(
        new Server("a", "localhost", 1, a.port(), null),
        new Server("b", "localhost", 1, b.port(), null)),
        new BackendConfig.Endpoint(143, TlsMode.NONE), new BackendConfig.Endpoint(110,
        TlsMode.NONE), true, null, Balance.USER_HASH, HealthCheck.OFF, ClientIp.NONE);
  }

  private Path token(String name, String token) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, token + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  private String login() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("t1 LOGIN " + userOnA() + " " + PW + "\r\n");
      String reply = c.readLine();
      assertThat(reply).startsWith("t1 OK");
      c.send("t2 LOGOUT\r\n");
      return reply;
    }
  }

  private static String userOnA() {
    HashRing ring = new HashRing(List.of("a", "b"), List.of(1, 1));
    for (int i = 0; ; i++) {
      if (ring.first("u-" + i, s -> true) == 0) {
        return "u-" + i;
      }
    }
  }

  private double drainedGauge() {
    Gauge g = postern.meters().registry().find("postern.backend.drained")
        .tags("backend", "pool", "server", "a").gauge();
    return g == null ? -1 : g.value();
  }

  private HttpResponse<String> post(String path, String token) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(postern.adminUrl() + path))
        .header("Authorization", "Bearer " + token)
        .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
