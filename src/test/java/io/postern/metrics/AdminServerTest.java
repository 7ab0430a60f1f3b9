package io.postern.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin endpoint as a load balancer, a process supervisor and Prometheus see it: liveness,
 * readiness (with a backend that goes away and comes back), the scrape formats and the HTTP
 * answers to anything else.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminServerTest {

  private static final List<String> LISTENERS = List.of("imap", "imaps", "pop3", "pop3s");
  /** Readiness answers are reused for a second ({@link Readiness#REUSE}); allow a few. */
  private static final Duration READY_WAIT = Duration.ofSeconds(5);
  /** Accepts a connection and hangs up: enough for a TCP probe. */
  private static final FakeBackend.Script HANG_UP = c -> { };

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();
  private FakeBackend imapBackend;
  private FakeBackend pop3Backend;
  private int imapPort;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    imapBackend = FakeBackend.start(HANG_UP, tls);
    imapPort = imapBackend.port();
    pop3Backend = FakeBackend.start(HANG_UP, tls);
    postern = PosternFixture.builder(dir.resolve("shared")).user("alice", "pw")
        .backend(imapPort, pop3Backend.port()).start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (imapBackend != null) {
      imapBackend.close();
    }
    if (pop3Backend != null) {
      pop3Backend.close();
    }
  }

  @Test
  void liveShouldAnswer200WithJson() throws Exception {
    HttpResponse<String> r = get(postern, "/health/live");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new JsonObject(r.body())).isEqualTo(new JsonObject().put("status", "live"));
  }

  @Test
  void headShouldAnswerLikeGetWithoutABody() throws Exception {
    HttpResponse<String> r = http.send(request(postern, "/health/live")
        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), utf8());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEmpty();
  }

  @Test
  void readyShouldAnswer200NamingBoundListenersReachableBackendsAndTheAuthSource()
      throws Exception {
    AtomicReference<HttpResponse<String>> last = new AtomicReference<>();
    // Another test may have left a "not ready" answer in the reuse window.
    await().atMost(READY_WAIT).untilAsserted(() -> {
      last.set(get(postern, "/health/ready"));
      assertThat(last.get().statusCode()).as(last.get().body()).isEqualTo(200);
    });
    HttpResponse<String> r = last.get();
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    JsonObject body = new JsonObject(r.body());
    assertThat(body.getString("status")).isEqualTo("ready");
    assertThat(body.containsKey("problems")).as(r.body()).isFalse();
    for (String listener : LISTENERS) {
      assertThat(body.getJsonObject("listeners").getString(listener)).as(listener)
          .isEqualTo("bound");
    }
    JsonObject backend = body.getJsonObject("backends").getJsonObject("default");
    assertThat(backend.getString("imap")).isEqualTo("up 127.0.0.1:" + imapPort);
    assertThat(backend.getString("pop3")).isEqualTo("up 127.0.0.1:" + pop3Backend.port());
    assertThat(body.getJsonObject("auth"))
        .isEqualTo(new JsonObject().put("source", "passwd-file").put("status", "up"));
  }

  @Test
  void readyShouldAnswer503WhileNoBackendIsReachableAndRecoverWhenOneListensAgain()
      throws Exception {
    imapBackend.close();
    AtomicReference<HttpResponse<String>> down = new AtomicReference<>();
    await().atMost(READY_WAIT).untilAsserted(() -> {
      down.set(get(postern, "/health/ready"));
      assertThat(down.get().statusCode()).as(down.get().body()).isEqualTo(503);
    });
    JsonObject body = new JsonObject(down.get().body());
    assertThat(body.getString("status")).isEqualTo("not ready");
    assertThat(body.getJsonArray("problems").getList()).containsExactly("backend default has no live server for imap");
    JsonObject backend = body.getJsonObject("backends").getJsonObject("default");
    assertThat(backend.getString("imap")).startsWith("down 127.0.0.1:" + imapPort + ": ");
    assertThat(backend.getString("pop3")).isEqualTo("up 127.0.0.1:" + pop3Backend.port());
    for (String listener : LISTENERS) {
      assertThat(body.getJsonObject("listeners").getString(listener)).isEqualTo("bound");
    }
    assertThat(body.getJsonObject("auth").getString("status")).isEqualTo("up");
    // Liveness does not depend on the backends.
    assertThat(get(postern, "/health/live").statusCode()).isEqualTo(200);

    imapBackend = FakeBackend.start(HANG_UP, tls, InetAddress.getLoopbackAddress(), imapPort);
    AtomicReference<HttpResponse<String>> up = new AtomicReference<>();
    await().atMost(READY_WAIT).untilAsserted(() -> {
      up.set(get(postern, "/health/ready"));
      assertThat(up.get().statusCode()).as(up.get().body()).isEqualTo(200);
    });
    JsonObject again = new JsonObject(up.get().body());
    assertThat(again.getString("status")).isEqualTo("ready");
    assertThat(again.getJsonObject("backends").getJsonObject("default").getString("imap"))
        .isEqualTo("up 127.0.0.1:" + imapPort);
  }

  @Test
  void anUnknownPathShouldAnswer404() throws Exception {
    for (String path : List.of("/", "/nope", "/metrics/x", "/health", "/health/ready/")) {
      assertThat(get(postern, path).statusCode()).as(path).isEqualTo(404);
    }
  }

  @Test
  void otherMethodsShouldAnswer405NamingGetAndHead() throws Exception {
    for (String method : List.of("POST", "PUT", "DELETE")) {
      for (String path : List.of("/metrics", "/health/ready", "/nope")) {
        HttpResponse<String> r = http.send(request(postern, path)
            .method(method, HttpRequest.BodyPublishers.ofString("x")).build(), utf8());
        assertThat(r.statusCode()).as(method + " " + path).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).as(method + " " + path)
            .hasValue("GET, HEAD");
      }
    }
  }

  /** Whatever a visitor sends as the method must not become a label: series would pile up. */
  @Test
  void madeUpMethodsShouldAddNoSeries() throws Exception {
    for (int i = 0; i < 20; i++) {
      http.send(request(postern, "/metrics").method("M" + i + "X".repeat(200),
          HttpRequest.BodyPublishers.noBody()).build(), utf8());
    }
    String scrape = get(postern, "/metrics").body();
    assertThat(scrape).doesNotContain("XXXXXXXX").doesNotContain("method=");
  }

  @Test
  void metricsShouldBePrometheusTextByDefault() throws Exception {
    HttpResponse<String> r = get(postern, "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    assertThat(r.body()).contains("postern_build_info{version=\"test\"} 1")
        .contains("# TYPE postern_connections_total counter")
        .doesNotContain("# EOF");
  }

  @Test
  void metricsShouldBeOpenMetricsWhenTheScraperAsksForIt() throws Exception {
    HttpResponse<String> r = http.send(request(postern, "/metrics")
        .header("Accept", "application/openmetrics-text; version=1.0.0").GET().build(), utf8());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/openmetrics-text");
    assertThat(r.body()).endsWith("# EOF\n").contains("postern_build_info");
  }

  @Test
  void readyShouldSayStoppingDuringTheGracePeriod() throws Exception {
    try (FakeBackend mail = FakeBackend.start(BackendScripts.imap("IMAP4rev1", "alice", "pw",
        BackendScripts.imapCommands("alice")), tls)) {
      PosternFixture stopping = PosternFixture.builder(dir.resolve("stopping")).user("alice", "pw")
          .backend(mail.port(), pop3Backend.port()).start();
      try (Conversation relayed = MailClient.implicitTls(stopping.port("imaps"), tls)) {
        relayed.expect("* OK");
        relayed.send("a LOGIN alice pw\r\n");
        relayed.expect("a OK");
        // A ready answer just before the stop must not be reused after it. The relayed session
        // holds the listeners (and so the admin endpoint) for the 1 s grace.
        assertThat(get(stopping, "/health/ready").statusCode()).isEqualTo(200);
        stopping.server().stop();
        HttpResponse<String> r = get(stopping, "/health/ready");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        JsonObject body = new JsonObject(r.body());
        assertThat(body.getString("status")).isEqualTo("not ready");
        assertThat(body.getJsonArray("problems").getList()).contains("Postern is stopping");
        for (String listener : LISTENERS) {
          assertThat(body.getJsonObject("listeners").getString(listener)).as(listener)
              .isEqualTo("stopping");
        }
        assertThat(get(stopping, "/health/live").statusCode()).isEqualTo(200);
        // The drain ends the relayed session between two backend responses, with its goodbye.
        relayed.expect("* BYE [UNAVAILABLE]");
        assertThat(relayed.closedByPeer(10_000)).isTrue();
      } finally {
        // A second stop (the fixture's) waits for the first.
        stopping.close();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static HttpRequest.Builder request(PosternFixture fixture, String path) {
    return HttpRequest.newBuilder(URI.create(fixture.adminUrl() + path))
        .timeout(Duration.ofSeconds(10));
  }

  private HttpResponse<String> get(PosternFixture fixture, String path) throws Exception {
    return http.send(request(fixture, path).GET().build(), utf8());
  }

  private static HttpResponse.BodyHandler<String> utf8() {
    return HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8);
  }
}
