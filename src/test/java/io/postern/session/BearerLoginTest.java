package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.Authenticator;
import io.postern.backend.Route;
import io.postern.credentials.BackendCredentials.Mechanism;
import io.postern.credentials.Secret;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * XOAUTH2 and OAUTHBEARER as clients see them, IMAP and POP3, with a token-verifying source and
 * scripted backends that take the replayed token (and answer a bad one with their own error
 * challenge), one without those mechanisms, and a password login the source asks for instead.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BearerLoginTest {

  /** A JWT-sized token: 4 KB, as some identity providers issue them. */
  private static final String BIG = "good." + "x".repeat(4096);
  private static final String IMAP_CAPS =
      "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER";

  @TempDir
  static Path dir;

  private FakeBackend backend;
  private FakeBackend legacy;
  private FakeBackend noSaslIr;
  private FakeBackend pop3;
  private FakeBackend legacyPop3;
  private PosternFixture postern;
  private final TokenSource source = new TokenSource();
  /** What each backend login presented, by mechanism: "XOAUTH2 alice good-1". */
  private final Map<String, String> replayed = new ConcurrentHashMap<>();

  @BeforeAll
  void start() throws Exception {
    TestTls tls = TestTls.shared("localhost");
    backend = FakeBackend.start(c -> imapBackend(c, IMAP_CAPS), tls);
    noSaslIr = FakeBackend.start(c -> imapBackend(c, "IMAP4rev1 AUTH=OAUTHBEARER"), tls);
    legacy = FakeBackend.start(BackendScripts.imap("IMAP4rev1 SASL-IR AUTH=PLAIN", "alice",
        "alice-pw", BackendScripts.imapCommands("alice")), tls);
    pop3 = FakeBackend.start(this::pop3Backend, tls);
    legacyPop3 = FakeBackend.start(BackendScripts.pop3("SASL PLAIN\r\nUSER\r\n",
        "alice", "alice-pw", BackendScripts.pop3Commands()), tls);
    postern = PosternFixture.builder(dir)
        .user("carol", "carol-pw")
        .backend(backend.port(), pop3.port())
        .backend("legacy", "127.0.0.1", legacy.port(), io.postern.config.TlsMode.NONE,
            legacyPop3.port(), io.postern.config.TlsMode.NONE, true, null)
        .backend("nosaslir", "127.0.0.1", noSaslIr.port(), io.postern.config.TlsMode.NONE,
            legacyPop3.port(), io.postern.config.TlsMode.NONE, true, null)
        .maxAttempts(10)
        .wrapAuthenticator(source::around)
        .start();
  }

  @BeforeEach
  void reset() {
    source.asked.clear();
    replayed.clear();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
    backend.close();
    legacy.close();
    noSaslIr.close();
    pop3.close();
    legacyPop3.close();
  }

  /**
   * The source: tokens starting "good" are alice's and replayed; "pw-token" is answered with
   * alice's backend password; "legacy" goes to a backend without the token mechanisms; anything
   * else is refused. Passwords go to the passwd-file.
   */
  private static final class TokenSource implements Authenticator {
    final List<AuthRequest> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Authenticator passwords;

    Authenticator around(Authenticator passwdFile) {
      this.passwords = passwdFile;
      return this;
    }

    @Override
    public boolean verifiesTokens() {
      return true;
    }

    @Override
    public String source() {
      return "test";
    }

    @Override
    public Future<AuthResult> authenticate(AuthRequest request) {
      if (!request.bearerToken()) {
        return passwords.authenticate(request);
      }
      asked.add(request);
      String token = request.credentials().password().text();
      Route route = Route.to(token.startsWith("legacy") ? "legacy"
          : token.startsWith("good-noir") ? "nosaslir" : "default");
      if (token.startsWith("good") || token.startsWith("legacy") || token.equals("refused-later")) {
        return Future.succeededFuture(new AuthResult.Accepted(route, "alice",
            request.credentials().password(), request.secretMechanism(), null, "alice"));
      }
      if (token.equals("pw-token")) {
        return Future.succeededFuture(new AuthResult.Accepted(route, "alice",
            Secret.of("alice-pw"), Mechanism.PASSWORD, null, "alice"));
      }
      return Future.succeededFuture(AuthResult.Rejected.badCredentials());
    }
  }

  // ---- The scripted backends.

  private void imapBackend(Conversation c, String caps) throws Exception {
    c.send("* OK hello\r\n");
    while (true) {
      String line = c.readLine();
      String[] words = line.split(" ");
      String tag = words[0];
      if (words[1].equals("CAPABILITY")) {
        c.send("* CAPABILITY " + caps + "\r\n" + tag + " OK done\r\n");
      } else if (words[1].equals("AUTHENTICATE") && words[2].equals("PLAIN")) {
        replayed.put("PLAIN", new String(Base64.getDecoder().decode(words[3]),
            StandardCharsets.UTF_8).replace('\0', ' ').trim());
        c.send(tag + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n");
        BackendScripts.imapCommands("alice").run(c);
        return;
      } else if (words[1].equals("AUTHENTICATE")) {
        String response = words.length > 3 ? words[3] : null;
        if (response == null) {
          c.send("+ \r\n");
          response = c.readLine();
        }
        String message = new String(Base64.getDecoder().decode(response), StandardCharsets.UTF_8);
        replayed.put(words[2], message);
        if (message.contains("auth=Bearer good")) {
          c.send(tag + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n");
          BackendScripts.imapCommands("alice").run(c);
          return;
        }
        c.send("+ " + b64("{\"status\":\"invalid_token\"}") + "\r\n");
        replayed.put("dummy", c.readLine());
        c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
      } else {
        c.send(tag + " BAD unexpected\r\n");
      }
    }
  }

  private void pop3Backend(Conversation c) throws Exception {
    c.send("+OK hello\r\n");
    while (true) {
      String line = c.readLine();
      String[] words = line.split(" ");
      switch (words[0]) {
        case "CAPA" -> c.send("+OK\r\nUSER\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n.\r\n");
        case "AUTH" -> {
          String response = words.length > 2 ? words[2] : null;
          if (response == null) {
            // A line over RFC 5034's 255 octets comes after the empty challenge.
            c.send("+ \r\n");
            response = c.readLine();
          }
          String message = new String(Base64.getDecoder().decode(response),
              StandardCharsets.UTF_8);
          replayed.put(words[1], message);
          if (message.contains("auth=Bearer good")) {
            c.send("+OK Logged in as alice\r\n");
            BackendScripts.pop3Commands().run(c);
            return;
          }
          c.send("+ " + b64("{\"status\":\"401\"}") + "\r\n");
          replayed.put("dummy", c.readLine());
          c.send("-ERR [AUTH] Authentication failed.\r\n");
        }
        default -> c.send("-ERR unexpected\r\n");
      }
    }
  }

  // ---- Clients.

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String xoauth2(String user, String token) {
    return b64("user=" + user + "\u0001auth=Bearer " + token + "\u0001\u0001");
  }

  private static String oauthBearer(String authzid, String token) {
    return b64((authzid.isEmpty() ? "n,," : "n,a=" + authzid + ",")
        + "\u0001host=localhost\u0001port=993\u0001auth=Bearer " + token + "\u0001\u0001");
  }

  private static String decoded(String continuation) {
    assertThat(continuation).startsWith("+ ");
    return new String(Base64.getDecoder().decode(continuation.substring(2)),
        StandardCharsets.UTF_8);
  }

  private Conversation imaps() throws Exception {
    Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls());
    c.expect("* OK");
    return c;
  }

  private Conversation pop3s() throws Exception {
    Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls());
    c.expect("+OK");
    return c;
  }

  // ---- IMAP.

  @Test
  void imapShouldAnnounceTheTokenMechanismsOnlyAfterTls() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a CAPABILITY\r\n");
      assertThat(c.readLine()).isEqualTo("* CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+"
          + " AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=OAUTHBEARER");
    }
    try (Conversation c = MailClient.plain(postern.port("imap"), postern.tls())) {
      assertThat(c.readLine()).doesNotContain("XOAUTH2").doesNotContain("OAUTHBEARER");
      // Before TLS a token is refused like a password, and never reaches the source.
      c.send("a AUTHENTICATE XOAUTH2 " + xoauth2("alice", "good-1") + "\r\n");
      assertThat(c.readLine()).startsWith("a NO [PRIVACYREQUIRED]");
      c.send("b STARTTLS\r\n");
      c.expect("b OK");
      c.startTls(true);
      c.send("c CAPABILITY\r\n");
      assertThat(c.readLine()).contains(" AUTH=XOAUTH2 AUTH=OAUTHBEARER");
    }
    assertThat(source.asked).isEmpty();
  }

  @Test
  void aTokenBeforeTlsShouldBeRefusedEvenWhereCleartextPasswordsAreAllowed() throws Exception {
    try (PosternFixture allowing = PosternFixture.builder(dir.resolve("allow"))
        .user("carol", "carol-pw")
        .backend(backend.port(), pop3.port())
        .cleartext(io.postern.config.AuthConfig.Cleartext.ALLOW)
        .wrapAuthenticator(source::around)
        .start()) {
      try (Conversation c = MailClient.plain(allowing.port("imap"), allowing.tls())) {
        c.readLine();
        c.send("a AUTHENTICATE OAUTHBEARER " + oauthBearer("", "good-1") + "\r\n");
        assertThat(c.readLine()).startsWith("a NO [PRIVACYREQUIRED]");
      }
      try (Conversation c = MailClient.plain(allowing.port("pop3"), allowing.tls())) {
        c.readLine();
        c.send("AUTH XOAUTH2 " + xoauth2("alice", "good-1") + "\r\n");
        assertThat(c.readLine()).startsWith("-ERR");
      }
    }
    assertThat(source.asked).isEmpty();
  }

  @Test
  void xoauth2WithSaslIrShouldReplayTheTokenAtTheBackend() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE XOAUTH2 " + xoauth2("alice@example.org", "good-1") + "\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      c.send("b WHOAMI\r\n");
      assertThat(c.readLine()).isEqualTo("* WHOAMI alice");
    }
    AuthRequest asked = source.asked.get(0);
    assertThat(asked.mechanism()).isEqualTo("XOAUTH2");
    assertThat(asked.credentials().user()).isEqualTo("alice@example.org");
    assertThat(asked.credentials().password().text()).isEqualTo("good-1");
    assertThat(replayed).containsEntry("XOAUTH2", "user=alice\u0001auth=Bearer good-1\u0001\u0001");
  }

  @Test
  void oauthBearerWithoutAuthzidAfterAChallengeShouldLogInAsTheSourcesUser() throws Exception {
    LogCapture logs = LogCapture.start();
    try {
      try (Conversation c = imaps()) {
        c.send("a AUTHENTICATE OAUTHBEARER\r\n");
        assertThat(c.readLine()).isEqualTo("+ ");
        c.send(oauthBearer("", BIG) + "\r\n");
        assertThat(c.readLine()).startsWith("a OK");
        c.send("b LOGOUT\r\n");
        c.readUntil("b OK");
      }
      assertThat(source.asked.get(0).credentials().user()).isEmpty();
      assertThat(replayed).containsEntry("OAUTHBEARER", "n,a=alice,\u0001auth=Bearer " + BIG
          + "\u0001\u0001");
      // The session's log line names who logged in, as the source named them; no token.
      await().atMost(Duration.ofSeconds(5)).until(() -> logs.lines().stream()
          .anyMatch(l -> l.contains("user=alice") && l.contains("result=")));
      assertThat(logs.lines()).noneMatch(l -> l.contains("xxxxxxxx"));
    } finally {
      logs.stop();
    }
  }

  @Test
  void aRefusedOauthBearerTokenShouldGetTheErrorChallengeThenNo() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE OAUTHBEARER " + oauthBearer("alice", "bad-token") + "\r\n");
      assertThat(decoded(c.readLine())).isEqualTo("{\"status\":\"invalid_token\"}");
      // The tagged NO waits for the client's dummy response.
      assertThat(c.available(300)).isEmpty();
      c.send("AQ==\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.");
      c.send("b NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("b OK NOOP completed.");
    }
  }

  @Test
  void aRefusedXoauth2TokenShouldGetGooglesErrorThenNo() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE XOAUTH2 " + xoauth2("alice", "bad-token") + "\r\n");
      assertThat(decoded(c.readLine()))
          .isEqualTo("{\"status\":\"401\",\"schemes\":\"bearer\"}");
      c.send("\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.");
    }
  }

  @Test
  void aTokenTheBackendRefusesShouldEndTheSameWay() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE OAUTHBEARER " + oauthBearer("alice", "refused-later") + "\r\n");
      assertThat(decoded(c.readLine())).contains("invalid_token");
      c.send("AQ==\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.");
    }
    // Postern answered the backend's own error challenge with the dummy response.
    assertThat(replayed).containsEntry("dummy", "AQ==");
  }

  @Test
  void aBackendWithoutSaslIrShouldGetTheTokenAfterItsChallenge() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE OAUTHBEARER " + oauthBearer("alice", "good-noir") + "\r\n");
      assertThat(c.readLine()).startsWith("a OK");
    }
    assertThat(replayed).containsEntry("OAUTHBEARER",
        "n,a=alice,\u0001auth=Bearer good-noir\u0001\u0001");
  }

  @Test
  void cancellingAndMalformedMessagesShouldGetBad() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE XOAUTH2\r\n");
      assertThat(c.readLine()).isEqualTo("+ ");
      c.send("*\r\n");
      assertThat(c.readLine()).isEqualTo("a BAD Authentication cancelled.");
      c.send("b AUTHENTICATE OAUTHBEARER =\r\n");
      assertThat(c.readLine()).isEqualTo("b BAD Invalid OAUTHBEARER message.");
      c.send("c AUTHENTICATE XOAUTH2 " + b64("user=alice\u0001\u0001") + "\r\n");
      assertThat(c.readLine()).isEqualTo("c BAD Invalid XOAUTH2 message.");
      c.send("d AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQ!!\r\n");
      assertThat(c.readLine()).isEqualTo("d BAD Invalid base64 data.");
    }
    assertThat(source.asked).isEmpty();
  }

  @Test
  void aSourcesPasswordShouldBeUsedInsteadOfTheToken() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE XOAUTH2 " + xoauth2("alice", "pw-token") + "\r\n");
      assertThat(c.readLine()).startsWith("a OK");
    }
    assertThat(replayed).containsEntry("PLAIN", "alice alice-pw").doesNotContainKey("XOAUTH2");
  }

  @Test
  void aBackendWithoutTheMechanismShouldBeAConfigurationErrorNotAWrongPassword()
      throws Exception {
    LogCapture logs = LogCapture.start();
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE XOAUTH2 " + xoauth2("alice", "legacy-1") + "\r\n");
      assertThat(c.readLine()).startsWith("a NO [UNAVAILABLE]");
      assertThat(logs.lines()).anyMatch(l -> l.contains("does not offer AUTH=XOAUTH2"));
    } finally {
      logs.stop();
    }
  }

  // ---- POP3.

  @Test
  void pop3ShouldListTheTokenMechanismsAfterTls() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("CAPA\r\n");
      assertThat(c.readUntil(".")).contains("SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER");
      c.send("AUTH\r\n");
      assertThat(c.readUntil(".")).containsExactly("+OK", "PLAIN", "LOGIN", "XOAUTH2",
          "OAUTHBEARER", ".");
    }
    try (Conversation c = MailClient.plain(postern.port("pop3"), postern.tls())) {
      c.expect("+OK");
      c.send("AUTH OAUTHBEARER " + oauthBearer("", "good-1") + "\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] Plaintext authentication is disabled");
    }
  }

  @Test
  void pop3AuthWithInitialResponseShouldReplayTheToken() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH XOAUTH2 " + xoauth2("alice", "good-2") + "\r\n");
      assertThat(c.readLine()).isEqualTo("+OK Logged in as alice");
    }
    assertThat(replayed).containsEntry("XOAUTH2", "user=alice\u0001auth=Bearer good-2\u0001\u0001");
  }

  @Test
  void pop3ShouldReplayALongTokenAfterTheBackendsChallenge() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH OAUTHBEARER " + oauthBearer("alice", BIG) + "\r\n");
      assertThat(c.readLine()).isEqualTo("+OK Logged in as alice");
    }
    assertThat(replayed).containsEntry("OAUTHBEARER", "n,a=alice,\u0001auth=Bearer " + BIG
        + "\u0001\u0001");
  }

  @Test
  void pop3RefusedTokenShouldGetTheErrorChallengeThenErr() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH OAUTHBEARER\r\n");
      assertThat(c.readLine()).isEqualTo("+ ");
      c.send(oauthBearer("", "bad-token") + "\r\n");
      assertThat(decoded(c.readLine())).isEqualTo("{\"status\":\"invalid_token\"}");
      assertThat(c.available(300)).isEmpty();
      c.send("AQ==\r\n");
      assertThat(c.readLine()).isEqualTo("-ERR [AUTH] Authentication failed.");
      c.send("AUTH XOAUTH2 " + xoauth2("alice", "refused-later") + "\r\n");
      assertThat(decoded(c.readLine())).contains("401");
      c.send("\r\n");
      assertThat(c.readLine()).isEqualTo("-ERR [AUTH] Authentication failed.");
    }
    // The backend's own error challenge, answered with XOAUTH2's empty response.
    assertThat(replayed).containsEntry("dummy", "");
  }
}
