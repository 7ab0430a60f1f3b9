package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens end to end: curl logs in through Postern with OAUTHBEARER, Python's imaplib
 * and poplib with XOAUTH2, over IMAPS and POP3S. Postern asks its {@code auth_http} service
 * (a small HTTP server here, which
 * sees {@code Auth-Method} and the token in {@code Auth-Pass}) and replays the token to a real
 * Dovecot with its {@code oauth2} passdb, which asks an RFC 7662 introspection endpoint
 * ({@code introspection_mode = post}) run by the test. A token the endpoint calls inactive is
 * refused by Dovecot; Postern answers its error challenge, and the client gets its own, then NO.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PosternOAuthDovecotIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final String GOOD = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.Z29vZC1zaWc";
  private static final String BAD = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.YmFkLXNpZw";

  @TempDir
  static Path dir;

  private HttpServer http;
  private DovecotServer dovecot;
  private PosternFixture postern;
  /** The tokens the introspection endpoint was asked about. */
  private final List<String> introspected = new CopyOnWriteArrayList<>();
  /** Auth-Method, Auth-User and Auth-Pass of each request to the auth service. */
  private final List<List<String>> authAsked = new CopyOnWriteArrayList<>();

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    http.createContext("/introspect", this::introspect);
    http.createContext("/auth", this::auth);
    http.start();
    dovecot = OAuth2Dovecot.start(dir, "http://127.0.0.1:" + http.getAddress().getPort()
        + "/introspect", Map.of("alice", "alice-password"));
    dovecot.deliver("alice", ("From: a@example.net\r\nTo: alice@example.net\r\nSubject: for"
        + " alice\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII));
    postern = PosternFixture.builder(dir.resolve("postern"))
        .backend(dovecot.imapPort(), dovecot.pop3Port())
        .httpAuth(List.of("http://127.0.0.1:" + http.getAddress().getPort() + "/auth"),
            Duration.ofSeconds(5), Map.of())
        .failureDelay(Duration.ofMillis(100))
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
    if (http != null) {
      http.stop(0);
    }
  }

  /** RFC 7662: {@code token=...} in a form body; active for the good token only. */
  private void introspect(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String token = null;
    for (String pair : body.split("&")) {
      if (pair.startsWith("token=")) {
        token = URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8);
      }
    }
    introspected.add(String.valueOf(token));
    respond(exchange, 200, GOOD.equals(token) ? "{\"active\":true,\"username\":\"alice\"}"
        : "{\"active\":false}", Map.of("Content-Type", "application/json"));
  }

  /**
   * The auth_http service: takes a token with a known Auth-Method, names the user and the
   * Dovecot it is on, and lets Dovecot judge the token itself (no Auth-Pass: replay).
   */
  private void auth(HttpExchange exchange) throws IOException {
    var h = exchange.getRequestHeaders();
    String method = h.getFirst("Auth-Method");
    authAsked.add(List.of(String.valueOf(method), String.valueOf(h.getFirst("Auth-User")),
        String.valueOf(h.getFirst("Auth-Pass"))));
    if (!"xoauth2".equals(method) && !"oauthbearer".equals(method)) {
      respond(exchange, 200, "", Map.of("Auth-Status", "Unexpected method"));
      return;
    }
    int port = "pop3".equals(h.getFirst("Auth-Protocol")) ? dovecot.pop3Port()
        : dovecot.imapPort();
    respond(exchange, 200, "", Map.of("Auth-Status", "OK", "Auth-Server", "127.0.0.1",
        "Auth-Port", String.valueOf(port), "Auth-User", "alice"));
  }

  private static void respond(HttpExchange exchange, int status, String body,
      Map<String, String> headers) throws IOException {
    headers.forEach(exchange.getResponseHeaders()::add);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      exchange.getResponseBody().write(bytes);
    }
    exchange.close();
  }

  /** curl 7.88 picks OAUTHBEARER whenever it is offered, whatever AUTH= it is given. */
  private ProcessResult curl(String token, String url) throws Exception {
    return Clients.curl(CLIENT_TIMEOUT, "--cacert", postern.tls().certPath().toString(),
        "-u", "alice:", "--oauth2-bearer", token, url);
  }

  private ProcessResult python(String protocol, String token) throws Exception {
    return Clients.python(CLIENT_TIMEOUT, "xoauth2_client.py", protocol, "localhost",
        String.valueOf(postern.port(protocol + "s")), postern.tls().certPath().toString(),
        "alice", token);
  }

  @Test
  void curlShouldReadMailWithOauthBearerOverImapsAndPop3s() throws Exception {
    authAsked.clear();
    introspected.clear();
    ProcessResult imap = curl(GOOD, "imaps://localhost:" + postern.port("imaps") + "/INBOX;UID=1");
    assertThat(imap.exitCode()).as("%s\n%s", imap, dovecot.logText()).isZero();
    assertThat(imap.stdout()).contains("Subject: for alice");
    ProcessResult pop3 = curl(GOOD, "pop3s://localhost:" + postern.port("pop3s") + "/1");
    assertThat(pop3.exitCode()).as("%s\n%s", pop3, dovecot.logText()).isZero();
    assertThat(pop3.stdout()).contains("Subject: for alice");
    // The service saw the mechanism and the token; Dovecot asked the endpoint about it.
    assertThat(authAsked).containsOnly(List.of("oauthbearer", "alice", GOOD)).hasSize(2);
    assertThat(introspected).containsOnly(GOOD).hasSize(2);
  }

  @Test
  void pythonShouldReadMailWithXoauth2OverImapsAndPop3s() throws Exception {
    authAsked.clear();
    introspected.clear();
    for (String protocol : List.of("imap", "pop3")) {
      ProcessResult result = python(protocol, GOOD);
      assertThat(result.exitCode()).as("%s\n%s", result, dovecot.logText()).isZero();
      assertThat(result.stdout()).isEqualTo("OK Subject: for alice\n");
    }
    assertThat(authAsked).containsOnly(List.of("xoauth2", "alice", GOOD)).hasSize(2);
    assertThat(introspected).containsOnly(GOOD).hasSize(2);
  }

  @Test
  void aTokenTheEndpointCallsInactiveShouldBeRefusedAfterTheErrorChallenge() throws Exception {
    introspected.clear();
    ProcessResult pop3 = curl(BAD, "pop3s://localhost:" + postern.port("pop3s") + "/1");
    // 67: curl's "login denied"; it got the refusal, not a broken exchange.
    assertThat(pop3.exitCode()).as("%s", pop3).isEqualTo(67);
    for (String protocol : List.of("imap", "pop3")) {
      ProcessResult result = python(protocol, BAD);
      assertThat(result.exitCode()).as("%s", result).isEqualTo(2);
      assertThat(result.stdout()).startsWith(
          "challenge {\"status\":\"401\",\"schemes\":\"bearer\"}\nNO ")
          .contains("Authentication failed.");
    }
    assertThat(introspected).containsOnly(BAD).hasSize(3);
    // As a client sees it on the wire: the error challenge, the dummy response, then NO.
    try (io.postern.testing.Conversation c = io.postern.testing.MailClient.implicitTls(
        postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a AUTHENTICATE OAUTHBEARER " + java.util.Base64.getEncoder().encodeToString(
          ("n,a=alice,\u0001auth=Bearer " + BAD + "\u0001\u0001")
              .getBytes(StandardCharsets.US_ASCII)) + "\r\n");
      String challenge = c.expect("+ ");
      assertThat(new String(java.util.Base64.getDecoder().decode(challenge.substring(2)),
          StandardCharsets.US_ASCII)).isEqualTo("{\"status\":\"invalid_token\"}");
      c.send("AQ==\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.");
    }
  }
}
