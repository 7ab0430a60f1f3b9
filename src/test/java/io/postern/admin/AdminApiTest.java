package io.postern.admin;

import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Gauge;
import io.postern.backend.HashRing;
import io.postern.config.BackendConfig;
import io.postern.config.BackendConfig.Balance;
import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.BackendConfig.HealthCheck;
import io.postern.config.BackendConfig.Server;
import io.postern.config.ConfigException;
import io.postern.config.TlsMode;
import io.postern.session.SessionView;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API as an operator's curl sees it, over real HTTP to an embedded Postern: listing
 * and filtering sessions, kicking a user, draining a backend server (new logins go elsewhere,
 * then come back), and the token: missing, wrong, rotated, locked out, or not configured at all.
 * Live sessions come from a fake directory; server drains act on the real pools.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminApiTest {

  private static final String TOKEN = "3f9c2a7be1d04c55a8e6b0f1d2c3e4f5";
  private static final String PW = "secret";
  private static final Instant SINCE = Instant.parse("2026-12-05T14:00:00Z");

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private final List<FakeBackend> fakes = new ArrayList<>();
  private final FakeSessions sessions = new FakeSessions();
  private final FakeSessions openSessions = new FakeSessions();
  private Path tokenFile;
  private PosternFixture postern;
  /** The same Postern without admin.token-file. */
  private PosternFixture open;

  @BeforeAll
  void start() throws Exception {
    tokenFile = dir.resolve("admin.token");
    Files.writeString(tokenFile, TOKEN + "\n");
    Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
    PosternFixture.Builder builder = PosternFixture.builder(dir.resolve("postern"))
        .maxAttempts(20).user("alice", PW).adminTokenFile(tokenFile);
    // Pool "pool": a and b answer; "spare" also has a b, so a bare "b" names two servers.
    builder.backend(new BackendConfig("pool", List.of(
            server("a", fake("pool-a").port()), server("b", fake("pool-b").port())),
        new BackendConfig.Endpoint(143, TlsMode.NONE), new BackendConfig.Endpoint(110,
            TlsMode.NONE), true, null, Balance.USER_HASH, HealthCheck.OFF, ClientIp.NONE));
    builder.backend(new BackendConfig("spare", List.of(
            server("b", Ports.closed()), server("c", Ports.closed())),
        new BackendConfig.Endpoint(143, TlsMode.NONE), new BackendConfig.Endpoint(110,
            TlsMode.NONE), true, null, Balance.USER_HASH, HealthCheck.OFF, ClientIp.NONE));
    builder.passwdLine(passwdLine(userOn("a"), PW, "backend=pool"));
    postern = builder.start();
    postern.server().sessionDirectory(sessions);
    open = PosternFixture.builder(dir.resolve("open")).user("alice", PW).start();
    open.server().sessionDirectory(openSessions);
  }

  @AfterAll
  void stop() throws Exception {
    for (PosternFixture p : new PosternFixture[] {postern, open}) {
      if (p != null) {
        p.close();
      }
    }
    for (FakeBackend fake : fakes) {
      fake.close();
    }
  }

  @BeforeEach
  void sessionsNow() {
    List<SessionView> now = List.of(
        view("s1", "alice", "pool", "a", true),
        view("s2", "Alice", "pool", "b", true),
        view("s3", "bob", "pool", "a", true),
        view("s4", null, null, null, false));
    sessions.reset(now);
    openSessions.reset(now);
  }

  // ------------------------------------------------------------------ listing

  @Test
  void listingShouldShowEverySessionWithWhoWhereAndHowMuch() throws Exception {
    HttpResponse<String> r = call(postern, "GET", "/api/sessions", TOKEN);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonObject body = new JsonObject(r.body());
    assertThat(body.getInteger("count")).isEqualTo(4);
    JsonObject first = body.getJsonArray("sessions").getJsonObject(0);
    assertThat(first).isEqualTo(new JsonObject()
        .put("session", "s1").put("user", "alice")
        .put("client", new JsonObject().put("ip", "192.0.2.7").put("port", 50123))
        .put("listener", "imaps").put("protocol", "imap").put("backend", "pool")
        .put("server", "a").put("tls", "TLSv1.3").put("since", "2026-12-05T14:00:00Z")
        .put("to_client", 4096L).put("to_backend", 512L).put("logged_in", true));
  }

  @Test
  void listingShouldFilterByUserWithoutCaseAndByServer() throws Exception {
    assertThat(ids(call(postern, "GET", "/api/sessions?user=ALICE", TOKEN)))
        .containsExactly("s1", "s2");
    assertThat(ids(call(postern, "GET", "/api/sessions?server=a", TOKEN)))
        .containsExactly("s1", "s3");
    assertThat(ids(call(postern, "GET", "/api/sessions?server=pool/b", TOKEN)))
        .containsExactly("s2");
    assertThat(ids(call(postern, "GET", "/api/sessions?user=alice&server=a", TOKEN)))
        .containsExactly("s1");
    // A configured server without sessions is an empty list; a name no pool has is a typo.
    assertThat(ids(call(postern, "GET", "/api/sessions?server=spare/c", TOKEN))).isEmpty();
    HttpResponse<String> typo = call(postern, "GET", "/api/sessions?server=aa", TOKEN);
    assertThat(typo.statusCode()).isEqualTo(404);
    assertThat(error(typo)).contains("no backend has a server named aa");
  }

  @Test
  void listingShouldNeedTheTokenWhenOneIsConfigured() throws Exception {
    HttpResponse<String> r = call(postern, "GET", "/api/sessions", null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
        v -> assertThat(v).startsWith("Bearer"));
    assertThat(r.body()).doesNotContain("alice");
  }

  @Test
  void withoutATokenFileListingShouldBeOpenButOnlyForAnAddressNotAName() throws Exception {
    assertThat(ids(call(open, "GET", "/api/sessions", null))).hasSize(4);
    // A page that DNS-rebinds its own name to 127.0.0.1 sends that name as Host.
    String answer = raw("127.0.0.1", open, "GET /api/sessions HTTP/1.1\r\n"
        + "Host: evil.example:" + port(open) + "\r\nConnection: close\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 403").contains("admin.token-file")
        .doesNotContain("alice");
  }

  // ------------------------------------------------------------------ kick

  @Test
  void kickShouldEndEveryOneOfTheUsersSessionsAtOnceAndSaySo() throws Exception {
    LogCapture log = LogCapture.start();
    try {
      HttpResponse<String> r = call(postern, "POST", "/api/sessions/kick?user=alice", TOKEN);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(r.body())).isEqualTo(
          new JsonObject().put("user", "alice").put("sessions", 2));
      assertThat(sessions.ended).hasSize(1);
      FakeSessions.Ended ended = sessions.ended.get(0);
      assertThat(ended.sessions()).extracting(SessionView::id).containsExactly("s1", "s2");
      assertThat(ended.result()).isEqualTo("kicked");
      assertThat(ended.spread()).isZero();
      assertThat(ids(call(postern, "GET", "/api/sessions", TOKEN))).containsExactly("s3", "s4");
      assertThat(log.lines()).contains("admin: kick user=alice sessions=2 from=127.0.0.1");
      assertThat(String.join("\n", log.lines())).doesNotContain(TOKEN);
    } finally {
      log.stop();
    }
  }

  // ------------------------------------------------------------------ server drain

  @Test
  void aDrainedServerShouldGetNoNewLoginsUntilItIsUndrained() throws Exception {
    String user = userOn("a");
    assertThat(login(user)).contains("Logged in at pool-a");
    assertThat(drainedGauge("a")).isZero();
    try {
      HttpResponse<String> r = call(postern, "POST", "/api/servers/drain?server=a", TOKEN);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(r.body())).isEqualTo(new JsonObject()
          .put("servers", new io.vertx.core.json.JsonArray().add("pool/a"))
          .put("drained", true).put("sessions", 2));
      // Its sessions end spread over the drain window, in the drained server's name.
      FakeSessions.Ended ended = sessions.ended.get(0);
      assertThat(ended.sessions()).extracting(SessionView::id).containsExactly("s1", "s3");
      assertThat(ended.result()).isEqualTo("drained");
      assertThat(ended.spread()).isEqualTo(postern.config().limits().drainWindow());

      assertThat(login(user)).as("the next server of the user's ring")
          .contains("Logged in at pool-b");
      assertThat(drainedGauge("a")).isEqualTo(1);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        JsonObject ready = new JsonObject(call(postern, "GET", "/health/ready", null).body());
        assertThat(ready.getJsonObject("backends").getJsonObject("pool")
            .getJsonObject("imap").getString("a")).startsWith("drained localhost:");
      });
    } finally {
      HttpResponse<String> r = call(postern, "POST", "/api/servers/undrain?server=pool/a",
          TOKEN);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(r.body())).isEqualTo(new JsonObject()
          .put("servers", new io.vertx.core.json.JsonArray().add("pool/a"))
          .put("drained", false));
    }
    assertThat(login(user)).contains("Logged in at pool-a");
    assertThat(drainedGauge("a")).isZero();
  }

  @Test
  void aServerNameShouldNameExactlyOneServer() throws Exception {
    HttpResponse<String> unknown = call(postern, "POST", "/api/servers/drain?server=zz", TOKEN);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(error(unknown)).isEqualTo("no backend has a server named zz");
    assertThat(call(postern, "POST", "/api/servers/undrain?server=pool/c", TOKEN).statusCode())
        .isEqualTo(404);
    HttpResponse<String> twice = call(postern, "POST", "/api/servers/drain?server=b", TOKEN);
    assertThat(twice.statusCode()).isEqualTo(409);
    assertThat(error(twice)).contains("pool/b").contains("spare/b");
    assertThat(drainedGauge("b")).isZero();
  }

  // ------------------------------------------------------------------ the token

  @Test
  void noMutatingCallShouldWorkWithoutTheRightToken() throws Exception {
    List<String> calls = List.of("/api/sessions/kick?user=alice", "/api/servers/drain?server=a",
        "/api/servers/undrain?server=a", "/api/drain", "/api/reload");
    for (String path : calls) {
      for (String token : new String[] {null, "wrong", TOKEN + "x", TOKEN.substring(1)}) {
        HttpResponse<String> r = call(postern, "POST", path, token);
        assertThat(r.statusCode()).as(path + " with " + token).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
        assertThat(error(r)).isNotBlank();
        if (token != null) {
          // Right next: the wrong ones do not add up to a lockout of this address.
          call(postern, "GET", "/api/sessions", TOKEN);
        }
      }
      HttpResponse<String> basic = send(postern, HttpRequest.newBuilder(uri(postern, path))
          .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
              ("admin:" + TOKEN).getBytes(StandardCharsets.UTF_8)))
          .POST(HttpRequest.BodyPublishers.noBody()));
      assertThat(basic.statusCode()).as(path + " with Basic").isEqualTo(401);
    }
    assertThat(sessions.ended).as("nothing was ended").isEmpty();
    assertThat(drainedGauge("a")).as("nothing was drained").isZero();
  }

  @Test
  void withoutATokenFileEveryMutatingCallShouldBeRefusedSayingHowToConfigureIt()
      throws Exception {
    for (String path : List.of("/api/sessions/kick?user=alice", "/api/servers/drain?server=x",
        "/api/servers/undrain?server=x", "/api/drain", "/api/reload")) {
      for (String token : new String[] {null, "anything", ""}) {
        HttpResponse<String> r = call(open, "POST", path, token);
        assertThat(r.statusCode()).as(path).isEqualTo(403);
        assertThat(error(r)).contains("admin.token-file");
      }
    }
    assertThat(openSessions.ended).isEmpty();
  }

  @Test
  void aRotatedTokenShouldWorkAtOnceAndTheOldOneNoMore() throws Exception {
    String rotated = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
    Path next = dir.resolve("admin.token.new");
    Files.writeString(next, rotated + "\n");
    Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rw-------"));
    Files.move(next, tokenFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    try {
      assertThat(call(postern, "GET", "/api/sessions", rotated).statusCode()).isEqualTo(200);
      assertThat(call(postern, "GET", "/api/sessions", TOKEN).statusCode()).isEqualTo(401);
    } finally {
      Files.writeString(tokenFile, TOKEN + "\n");
    }
    assertThat(call(postern, "GET", "/api/sessions", TOKEN).statusCode()).isEqualTo(200);
  }

  @Test
  void anAddressThatSendsWrongTokensShouldHaveTheNextWrongOnesRefusedForAWhile() throws Exception {
    // From 127.0.0.2, so that the other tests' address keeps its standing.
    for (int i = 0; i < TokenLockout.MAX_FAILURES; i++) {
      assertThat(rawCall("127.0.0.2", "wrong-" + i)).startsWith("HTTP/1.1 401");
    }
    String locked = rawCall("127.0.0.2", "wrong-again");
    assertThat(locked).startsWith("HTTP/1.1 429").contains("Retry-After: ");
    // The right token still passes, from there too: whoever shares the operator's address
    // cannot lock the operator out.
    assertThat(rawCall("127.0.0.2", TOKEN)).startsWith("HTTP/1.1 200");
    assertThat(call(postern, "GET", "/api/sessions", TOKEN).statusCode())
        .as("another address").isEqualTo(200);
  }

  @Test
  void anEmptyTokenFileShouldStopPosternNamingTheKey() throws Exception {
    Path empty = dir.resolve("empty.token");
    Files.writeString(empty, "\n");
    assertThatThrownBy(() -> PosternFixture.builder(dir.resolve("empty")).user("alice", PW)
        .adminTokenFile(empty).start())
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("admin.token-file").hasMessageContaining("is empty");
  }

  // ------------------------------------------------------------------ HTTP

  @Test
  void aWrongMethodShouldBe405WithAllow() throws Exception {
    HttpResponse<String> get = call(postern, "GET", "/api/sessions/kick?user=alice", TOKEN);
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).hasValue("POST");
    assertThat(error(get)).contains("POST");
    HttpResponse<String> post = call(postern, "POST", "/api/sessions", TOKEN);
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("Allow")).hasValue("GET");
    assertThat(call(postern, "DELETE", "/api/drain", TOKEN).statusCode()).isEqualTo(405);
    // The rest of the admin endpoint stays read-only.
    HttpResponse<String> metrics = call(postern, "POST", "/metrics", TOKEN);
    assertThat(metrics.statusCode()).isEqualTo(405);
    assertThat(metrics.headers().firstValue("Allow")).hasValue("GET, HEAD");
    assertThat(sessions.ended).isEmpty();
  }

  @Test
  void anUnknownPathShouldBe404InJson() throws Exception {
    for (String path : List.of("/api/nope", "/api", "/api/sessions/", "/api/servers")) {
      HttpResponse<String> r = call(postern, "GET", path, TOKEN);
      assertThat(r.statusCode()).as(path).isEqualTo(404);
      assertThat(error(r)).contains("/api/sessions");
    }
  }

  @Test
  void aMissingOrUnknownParameterShouldBe400() throws Exception {
    HttpResponse<String> missing = call(postern, "POST", "/api/sessions/kick", TOKEN);
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(error(missing)).contains("?user=");
    assertThat(call(postern, "POST", "/api/sessions/kick?user=", TOKEN).statusCode())
        .isEqualTo(400);
    assertThat(call(postern, "POST", "/api/sessions/kick?user=a&user=b", TOKEN).statusCode())
        .isEqualTo(400);
    HttpResponse<String> typo = call(postern, "GET", "/api/sessions?usr=alice", TOKEN);
    assertThat(typo.statusCode()).isEqualTo(400);
    assertThat(error(typo)).contains("usr").contains("user, server");
    assertThat(call(postern, "POST", "/api/servers/drain", TOKEN).statusCode()).isEqualTo(400);
    // Arguments are checked after the token: without it, the answer is still 401.
    assertThat(call(postern, "POST", "/api/sessions/kick", null).statusCode()).isEqualTo(401);
    assertThat(sessions.ended).isEmpty();
  }

  @Test
  void aBodyShouldBe413() throws Exception {
    HttpResponse<String> r = send(postern, HttpRequest.newBuilder(
            uri(postern, "/api/sessions/kick?user=alice"))
        .header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"alice\"}")));
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(error(r)).contains("query parameters");
    assertThat(sessions.ended).isEmpty();
  }

  // ------------------------------------------------------------------ helpers

  private static SessionView view(String id, String user, String backend, String server,
      boolean loggedIn) {
    return new SessionView(id, user, "192.0.2.7", 50123, "imaps", "imap", backend, server,
        "TLSv1.3", SINCE, 4096, 512, loggedIn);
  }

  private String login(String user) throws IOException {
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("t1 LOGIN " + user + " " + PW + "\r\n");
      String reply = c.readLine();
      assertThat(reply).startsWith("t1 OK");
      c.send("t2 LOGOUT\r\n");
      return reply;
    }
  }

  /** The first of u-N whose ring in pool (a, b) starts at {@code server}. */
  private static String userOn(String server) {
    List<String> names = List.of("a", "b");
    HashRing ring = new HashRing(names, List.of(1, 1));
    for (int i = 0; ; i++) {
      String user = "u-" + i;
      if (names.get(ring.first(user, s -> true)).equals(server)) {
        return user;
      }
    }
  }

  private double drainedGauge(String server) {
    Gauge g = postern.meters().registry().find("postern.backend.drained")
        .tags("backend", "pool", "server", server).gauge();
    assertThat(g).as("postern_backend_drained for pool/" + server).isNotNull();
    return g.value();
  }

  private static List<String> ids(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonArray("sessions").stream()
        .map(o -> ((JsonObject) o).getString("session")).toList();
  }

  private static String error(HttpResponse<String> r) {
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    return new JsonObject(r.body()).getString("error");
  }

  private HttpResponse<String> call(PosternFixture p, String method, String path, String token)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(p, path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return send(p, b);
  }

  private HttpResponse<String> send(PosternFixture p, HttpRequest.Builder b) throws Exception {
    return http.send(b.timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(PosternFixture p, String path) {
    return URI.create(p.adminUrl() + path);
  }

  private static int port(PosternFixture p) {
    return URI.create(p.adminUrl()).getPort();
  }

  /** GET /api/sessions with {@code token}, from the local address {@code from}. */
  private String rawCall(String from, String token) throws IOException {
    return raw(from, postern, "GET /api/sessions HTTP/1.1\r\nHost: 127.0.0.1:" + port(postern)
        + "\r\nAuthorization: Bearer " + token + "\r\nConnection: close\r\n\r\n");
  }

  /** Sends {@code request} from {@code from} and reads the answer to the end. */
  private static String raw(String from, PosternFixture p, String request) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port(p)), 5000);
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private FakeBackend fake(String name) throws IOException {
    FakeBackend fake = FakeBackend.start(AdminApiTestScripts.answering(name, PW), tls);
    fakes.add(fake);
    return fake;
  }

  private static Server server(String name, int imapPort) {
    return new Server(name, "localhost", 1, imapPort, null);
  }
}
