package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.ProcessResult;
import io.postern.testing.TestIssuer;
import io.postern.testing.TestIssuer.Reply;
import io.postern.testing.TestIssuer.SigningKey;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code auth.source: oauth2} as a user runs it: the jar verifies JWTs against the issuer's JWKS
 * and replays them to a real Dovecot whose {@code oauth2} passdb asks the same issuer's
 * introspection endpoint about each one. curl logs in with OAUTHBEARER, Python's imaplib and
 * poplib with XOAUTH2. Tokens Postern refuses (expired, another audience, another user than
 * the one named) never reach Dovecot: the issuer is asked about good tokens only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PosternOAuth2DovecotIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String ISSUER = "https://id.example.net";
  private static final String AUDIENCE = "imap.example.net";

  @TempDir
  static Path dir;

  private final Vertx vertx = Vertx.vertx();
  private final SigningKey key = SigningKey.ec("ec-1");
  /** The tokens the issuer calls active when Dovecot asks. */
  private final Set<String> issued = ConcurrentHashMap.newKeySet();
  private TestIssuer issuer;
  private DovecotServer dovecot;
  private PosternJar postern;
  private Path ca;

  PosternOAuth2DovecotIT() throws Exception {}

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    issuer = TestIssuer.start();
    issuer.publish(key);
    issuer.introspect(token -> Reply.json(200, issued.contains(token)
        ? new JsonObject().put("active", true).put("username", "alice")
        : new JsonObject().put("active", false)));
    dovecot = OAuth2Dovecot.start(dir, issuer.introspectionUrl(),
        Map.of("alice", "alice-password"));
    dovecot.deliver("alice", ("From: a@example.net\r\nTo: alice@example.net\r\nSubject: for"
        + " alice\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII));
    Path home = Files.createDirectories(dir.resolve("postern"));
    OpensslCertificates.Pair cert = OpensslCertificates.localhost(home, "postern");
    ca = cert.cert();
    Path config = home.resolve("postern.yaml");
    Files.writeString(config, config(cert));
    postern = PosternJar.start(home, Map.of(), "--config", config.toString());
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
    if (issuer != null) {
      issuer.close();
    }
    vertx.close().await();
  }

  @Test
  void curlShouldReadMailWithOauthBearerOverImaps() throws Exception {
    String token = token(AUDIENCE, 300);
    ProcessResult imap = curl("alice", token, "imaps://localhost:" + port("imaps")
        + "/INBOX;UID=1");
    assertThat(imap.exitCode()).as("%s\n%s", imap, dovecot.logText()).isZero();
    assertThat(imap.stdout()).contains("Subject: for alice");
    // Dovecot checked the replayed token itself.
    assertThat(introspected()).contains(token);
  }

  @Test
  void pythonShouldReadMailWithXoauth2OverImapsAndPop3s() throws Exception {
    for (String protocol : List.of("imap", "pop3")) {
      String token = token(AUDIENCE, 300);
      ProcessResult result = python(protocol, "alice", token);
      assertThat(result.exitCode()).as("%s\n%s", result, dovecot.logText()).isZero();
      assertThat(result.stdout()).isEqualTo("OK Subject: for alice\n");
      assertThat(introspected()).contains(token);
    }
  }

  @Test
  void expiredAndWrongAudienceTokensShouldBeRefusedNamingTheCheck() throws Exception {
    String expired = token(AUDIENCE, -600);
    String elsewhere = token("smtp.example.net", 300);
    for (String token : List.of(expired, elsewhere)) {
      // As curl shows the exchange: the error continuation ({"status":"invalid_token"}), its
      // dummy answer, then NO; 67 is curl's "login denied".
      ProcessResult curl = curl("alice", token, "imaps://localhost:" + port("imaps") + "/INBOX",
          "-v");
      assertThat(curl.exitCode()).as("%s", curl).isEqualTo(67);
      assertThat(curl.stderr()).containsSubsequence("< + eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=",
          "> AQ==", "< A002 NO [AUTHENTICATIONFAILED] Authentication failed.");
      ProcessResult pop3 = python("pop3", "alice", token);
      assertThat(pop3.exitCode()).as("%s", pop3).isEqualTo(2);
      assertThat(pop3.stdout()).isEqualTo("challenge {\"status\":\"401\",\"schemes\":"
          + "\"bearer\"}\nNO b'-ERR [AUTH] Authentication failed.'\n");
    }
    Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(postern.output())
        .contains("(oauth2: expired (or nbf/iat in the future))")
        .contains("(oauth2: wrong audience)"));
    assertThat(postern.output()).doesNotContain(expired).doesNotContain(elsewhere)
        .doesNotContain(signature(expired)).doesNotContain(signature(elsewhere));
    assertThat(introspected()).doesNotContain(expired, elsewhere);
  }

  @Test
  void aNamedUserOtherThanTheClaimsShouldBeRefused() throws Exception {
    String token = token(AUDIENCE, 300);
    ProcessResult imap = python("imap", "bob", token);
    assertThat(imap.exitCode()).as("%s", imap).isEqualTo(2);
    assertThat(imap.stdout()).startsWith(
        "challenge {\"status\":\"401\",\"schemes\":\"bearer\"}\nNO ")
        .contains("AUTHENTICATIONFAILED");
    Awaitility.await().atMost(WAIT).until(() -> postern.output()
        .contains("not the user bob the client named"));
    assertThat(postern.output()).doesNotContain(token);
    assertThat(introspected()).doesNotContain(token);
  }

  @Test
  void theSessionShouldBeTheClaimsUsersWhenTheClientNamedNone() throws Exception {
    String token = token(AUDIENCE, 300);
    String session;
    try (Conversation c = MailClient.implicitTls(port("imaps"), ca)) {
      c.expect("* OK");
      // OAUTHBEARER without a=: the token alone names the user.
      c.send("a AUTHENTICATE OAUTHBEARER " + oauthBearer("", token) + "\r\n");
      c.expect("a OK");
      // This connection, as the admin API lists it.
      JsonObject mine = liveSessions().stream().map(JsonObject.class::cast)
          .filter(s -> s.getJsonObject("client").getInteger("port")
              == c.socket().getLocalPort())
          .findFirst().orElseThrow();
      assertThat(mine.getString("user")).isEqualTo("alice");
      session = mine.getString("session");
      c.send("b LOGOUT\r\n");
      c.expect("* BYE");
      c.expect("b OK");
    }
    Pattern line = Pattern.compile("postern\\.session - session=" + session + " .*");
    Awaitility.await().atMost(WAIT).until(() -> line.matcher(postern.output()).find());
    Matcher m = line.matcher(postern.output());
    assertThat(m.find()).isTrue();
    assertThat(m.group()).contains(" user=alice ").contains(" result=");
  }

  private JsonArray liveSessions() throws Exception {
    ProcessResult r = Clients.curl(WAIT, "-s", postern.adminUrl() + "/api/sessions");
    assertThat(r.exitCode()).as("%s", r).isZero();
    return new JsonObject(r.stdout()).getJsonArray("sessions");
  }

  /** A token for alice from the issuer, for {@code audience}, valid {@code seconds} from now. */
  private String token(String audience, long seconds) {
    String token = key.sign(vertx, new JsonObject().put("iss", ISSUER).put("aud", audience)
        .put("preferred_username", "alice").put("exp", Instant.now().getEpochSecond() + seconds));
    if (seconds > 0 && AUDIENCE.equals(audience)) {
      issued.add(token);
    }
    return token;
  }

  private List<String> introspected() {
    return issuer.introspections().stream().map(TestIssuer.Introspection::token).toList();
  }

  private static String signature(String jwt) {
    return jwt.substring(jwt.lastIndexOf('.') + 1);
  }

  private static String oauthBearer(String authzid, String token) {
    return Base64.getEncoder().encodeToString(("n," + authzid + ",\u0001auth=Bearer " + token
        + "\u0001\u0001").getBytes(StandardCharsets.US_ASCII));
  }

  private int port(String listener) throws Exception {
    return postern.listenerPorts().get(listener);
  }

  /** curl 7.88 logs in with OAUTHBEARER when it is offered and given a bearer token. */
  private ProcessResult curl(String user, String token, String url, String... more)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("--cacert", ca.toString(), "-u",
        user + ":", "--oauth2-bearer", token, url));
    args.addAll(List.of(more));
    return Clients.curl(WAIT, args.toArray(String[]::new));
  }

  private ProcessResult python(String protocol, String user, String token) throws Exception {
    return Clients.python(WAIT, "xoauth2_client.py", protocol, "localhost",
        String.valueOf(port(protocol + "s")), ca.toString(), user, token);
  }

  private String config(OpensslCertificates.Pair cert) {
    return String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth:",
        "  source: oauth2",
        "  failure-delay: 100ms",
        "  throttle: { initial-delay: 100ms, max-delay: 100ms }",
        "  oauth2:",
        "    jwks-url: '" + issuer.jwksUrl() + "'",
        "    issuer: " + ISSUER,
        "    audience: " + AUDIENCE,
        "    user-claim: preferred_username",
        "    timeout: 5s",
        "backends:",
        "  default: { host: 127.0.0.1, imap: { port: " + dovecot.imapPort() + ", tls: none },"
            + " pop3: { port: " + dovecot.pop3Port() + ", tls: none } }",
        "limits: { connection-rate-per-ip: 0, handshake-rate-per-ip: 0 }",
        "admin: { address: 127.0.0.1, port: 0 }",
        "");
  }
}
