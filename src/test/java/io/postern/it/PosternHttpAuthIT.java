package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.LogCapture;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.postern.testing.TestTls;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Postern with {@code auth.source: http} in front of a real Dovecot, asking the same Python
 * {@code auth_http} service a real nginx mail proxy asks, side by side: curl and Python's
 * imaplib/poplib log in through both, and the service sees the same request from each.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PosternHttpAuthIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final String ALICE_PW = "alice pw%1";
  /** A login with a space and non-ASCII letters, mapped by the service to Dovecot's bob. */
  private static final String CAROL = "Çarol Smith";
  private static final String CAROL_PW = "carol-pw";
  private static final String BOB_PW = "bob-dovecot-pw";

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private NginxAuthService service;
  private NginxMailProxy nginx;
  private PosternFixture postern;
  private LogCapture logs;
  private Map<String, Map<String, Object>> users;

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    RealParts.require("python3");
    RealParts.require("nginx");
    dovecot = DovecotServer.start(dir.resolve("dovecot"), Map.of("alice", ALICE_PW,
        "bob", BOB_PW));
    dovecot.deliver("alice", message("for alice"));
    dovecot.deliver("bob", message("for bob"));
    users = new LinkedHashMap<>();
    users.put("alice", NginxAuthService.user(ALICE_PW, "127.0.0.1", dovecot.imapPort(),
        dovecot.pop3Port()));
    Map<String, Object> carol = new HashMap<>(NginxAuthService.user(CAROL_PW, "localhost",
        dovecot.imapPort(), dovecot.pop3Port()));
    carol.put("user", "bob");
    carol.put("pass", BOB_PW);
    users.put(CAROL, carol);
    service = NginxAuthService.start(dir.resolve("auth"), users,
        NginxAuthService.Options.DEFAULT.withRequiredHeader("X-Auth-Key", "s3cret"));
    TestTls tls = TestTls.shared("localhost");
    nginx = NginxMailProxy.start(dir.resolve("nginx"), service.url(),
        List.of("auth_http_header X-Auth-Key s3cret;", "ssl_certificate " + tls.certPath() + ";",
            "ssl_certificate_key " + tls.keyPath() + ";",
            // nginx 1.22 leaves TLS 1.3 out unless told.
            "ssl_protocols TLSv1.2 TLSv1.3;"));
    logs = LogCapture.start();
    postern = PosternFixture.builder(dir.resolve("postern"))
        .backend(dovecot.imapPort(), dovecot.pop3Port())
        .httpAuth(List.of("http://127.0.0.1:" + Ports.closed() + "/auth", service.url()),
            Duration.ofSeconds(3), Map.of("X-Auth-Key", "s3cret"))
        .authCache(Duration.ofSeconds(60), Duration.ofSeconds(1), 1000)
        .failureDelay(Duration.ofMillis(200))
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    if (logs != null) {
      logs.stop();
    }
    if (postern != null) {
      postern.close();
    }
    if (nginx != null) {
      nginx.close();
    }
    if (service != null) {
      service.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
  }

  /** First: nothing is cached yet, so both requests reach the service. */
  @Test
  @Order(1)
  void curlShouldLogInThroughPosternAndNginxAlike() throws Exception {
    String cacert = postern.tls().certPath().toString();
    service.clearRequests();
    ProcessResult viaPostern = Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u",
        "alice:" + ALICE_PW, "imaps://localhost:" + postern.port("imaps") + "/INBOX;UID=1");
    assertThat(viaPostern.exitCode()).as("%s", viaPostern).isZero();
    ProcessResult viaNginx = Clients.curl(CLIENT_TIMEOUT, "-u", "alice:" + ALICE_PW,
        "imap://127.0.0.1:" + nginx.imapPort() + "/INBOX;UID=1");
    assertThat(viaNginx.exitCode()).as("%s", viaNginx).isZero();
    assertThat(viaPostern.stdout()).contains("Subject: for alice").isEqualTo(viaNginx.stdout());

    // The service saw one request from each, with the same protocol headers and escaping
    // (the space and % of the password are escaped the same way).
    List<JsonObject> asked = service.requests();
    assertThat(asked).hasSize(2);
    Map<String, String> fromPostern = sameHeaders(asked, "auth-method", "auth-user",
        "auth-pass", "auth-protocol", "auth-login-attempt", "client-ip", "x-auth-key");
    assertThat(fromPostern.get("auth-pass")).isEqualTo("alice%20pw%251");
    assertThat(fromPostern.get("auth-ssl")).isEqualTo("on");
    assertThat(fromPostern.get("auth-ssl-protocol")).isEqualTo("TLSv1.3");

    ProcessResult pop3 = Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u",
        "alice:" + ALICE_PW, "pop3s://localhost:" + postern.port("pop3s") + "/1");
    assertThat(pop3.stdout()).as("%s", pop3).contains("Subject: for alice");
  }

  /**
   * The TLS facts as nginx states them: a service that decides on Auth-SSL-Protocol or
   * Auth-SSL-Cipher (OpenSSL's names) must see the same from Postern, for TLS 1.2 and 1.3.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"1.2", "1.3"})
  @Order(2)
  void tlsFactsShouldBeNamedAsNginxNamesThem(String version) throws Exception {
    String cacert = postern.tls().certPath().toString();
    List<String> tlsArgs = version.equals("1.2")
        ? List.of("--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256")
        : List.of("--tlsv1.3", "--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256");
    service.clearRequests();
    for (String url : List.of("imaps://localhost:" + postern.port("imaps") + "/INBOX;UID=1",
        "imaps://localhost:" + nginx.imapsPort() + "/INBOX;UID=1")) {
      List<String> args = new ArrayList<>(tlsArgs);
      args.addAll(List.of("--cacert", cacert, "-u", "alice:" + ALICE_PW, url));
      ProcessResult r = Clients.curl(CLIENT_TIMEOUT, args.toArray(String[]::new));
      assertThat(r.exitCode()).as("%s", r).isZero();
      assertThat(r.stdout()).contains("Subject: for alice");
    }
    // Not answered from the cache: the first login was over another TLS version.
    List<JsonObject> asked = service.requests();
    assertThat(asked).hasSize(2);
    Map<String, String> fromPostern = sameHeaders(asked, "auth-ssl", "auth-ssl-protocol",
        "auth-ssl-cipher", "auth-user", "auth-pass", "auth-protocol", "client-ip");
    assertThat(fromPostern.get("auth-ssl-cipher")).isEqualTo(version.equals("1.2")
        ? "ECDHE-RSA-AES128-GCM-SHA256" : "TLS_CHACHA20_POLY1305_SHA256");
  }

  @Test
  @Order(3)
  void aRewrittenLoginWithAHostNameServerShouldReachItsOwnMailbox() throws Exception {
    String cacert = postern.tls().certPath().toString();
    ProcessResult imap = Clients.python(CLIENT_TIMEOUT, "imap_client.py", "--host",
        "localhost", "--port", String.valueOf(postern.port("imap")), "--tls", "starttls",
        "--cafile", cacert, "--user", CAROL, "--password", CAROL_PW, "--mech", "plain",
        "--fetch-uid", "1", "--out", dir.resolve("carol.eml").toString());
    assertThat(imap.exitCode()).as("%s", imap).isZero();
    assertThat(java.nio.file.Files.readString(dir.resolve("carol.eml"))).contains("for bob");
    ProcessResult pop3 = Clients.python(CLIENT_TIMEOUT, "pop3_client.py", "--host",
        "localhost", "--port", String.valueOf(postern.port("pop3s")), "--tls", "implicit",
        "--cafile", cacert, "--user", CAROL, "--password", CAROL_PW, "--mech", "plain",
        "--retr", "1", "--out", dir.resolve("carol-pop3.eml").toString());
    assertThat(pop3.exitCode()).as("%s", pop3).isZero();
    assertThat(java.nio.file.Files.readString(dir.resolve("carol-pop3.eml"))).contains("for bob");
  }

  @Test
  @Order(4)
  void wrongPasswordsShouldFailAndNeverBeCachedAsRight() throws Exception {
    String cacert = postern.tls().certPath().toString();
    ProcessResult wrong = Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u",
        "alice:wrong", "imaps://localhost:" + postern.port("imaps") + "/INBOX");
    assertThat(wrong.exitCode()).as("%s", wrong).isEqualTo(67);
    ProcessResult py = Clients.python(CLIENT_TIMEOUT, "pop3_client.py", "--host",
        "localhost", "--port", String.valueOf(postern.port("pop3")), "--tls", "starttls",
        "--cafile", cacert, "--user", "alice", "--password", "wrong", "--expect-login-failure");
    assertThat(py.exitCode()).as("%s", py).isZero();
    ProcessResult right = Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u",
        "alice:" + ALICE_PW, "imaps://localhost:" + postern.port("imaps") + "/INBOX;UID=1");
    assertThat(right.exitCode()).as("%s", right).isZero();
  }

  @Test
  @Order(5)
  void aCachedYesShouldSpareTheService() throws Exception {
    String cacert = postern.tls().certPath().toString();
    String url = "imaps://localhost:" + postern.port("imaps") + "/INBOX;UID=1";
    assertThat(Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u", "alice:" + ALICE_PW, url)
        .exitCode()).isZero();
    service.clearRequests();
    for (int i = 0; i < 3; i++) {
      assertThat(Clients.curl(CLIENT_TIMEOUT, "--cacert", cacert, "-u", "alice:" + ALICE_PW,
          url).exitCode()).isZero();
    }
    assertThat(service.requests()).isEmpty();
    assertThat(logs.lines()).noneMatch(l -> l.contains(ALICE_PW) || l.contains(CAROL_PW)
        || l.contains(BOB_PW));
  }

  /** Last: the service goes away. */
  @Test
  @Order(6)
  void withTheServiceGoneLoginsShouldBeTemporaryFailuresAndReadinessShouldSaySo()
      throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest ready = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(postern.adminUrl() + "/health/ready")).build();
    java.net.http.HttpResponse<String> before = http.send(ready,
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(before.statusCode()).as(before.body()).isEqualTo(200);
    assertThat(new JsonObject(before.body()).getJsonObject("auth").getString("status"))
        .isEqualTo("up");

    service.close();
    ProcessResult r = Clients.curl(CLIENT_TIMEOUT, "--cacert",
        postern.tls().certPath().toString(), "-v", "-u", "alice:not-cached-" + System.nanoTime(),
        "imaps://localhost:" + postern.port("imaps") + "/INBOX");
    assertThat(r.exitCode()).as("%s", r).isNotZero();
    assertThat(r.stderr()).contains("[UNAVAILABLE]");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
        http.send(ready, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
    String body = http.send(ready, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertThat(body).contains("auth source http is not answering");
  }

  private static byte[] message(String subject) {
    return ("From: a@example.net\r\nTo: someone@example.net\r\nSubject: " + subject
        + "\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Asserts that the first request (Postern's) and the second (nginx's) carry the same, present,
   * values of {@code names}; Postern's headers.
   */
  private static Map<String, String> sameHeaders(List<JsonObject> asked, String... names) {
    Map<String, String> fromPostern = NginxAuthService.headers(asked.get(0));
    Map<String, String> fromNginx = NginxAuthService.headers(asked.get(1));
    for (String name : names) {
      assertThat(fromPostern.get(name)).as(name).isEqualTo(fromNginx.get(name)).isNotNull();
    }
    return fromPostern;
  }
}
