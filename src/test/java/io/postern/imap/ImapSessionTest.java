package io.postern.imap;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.CountingAuthenticator;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** IMAP before login, as a client sees it, with a scripted backend behind Postern. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ImapSessionTest {

  private static final String CAPS = "IMAP4rev1 LITERAL+ ID";

  @TempDir
  static Path dir;

  private TestTls backendTls;
  private FakeBackend backend;
  private PosternFixture postern;
  private final CountingAuthenticator auth = new CountingAuthenticator();

  @BeforeAll
  void start() throws Exception {
    backendTls = TestTls.shared("localhost");
    backend = FakeBackend.start(BackendScripts.imap(CAPS, "alice", "alice-pw",
        BackendScripts.imapCommands("alice")), backendTls);
    postern = PosternFixture.builder(dir)
        .user("alice", "alice-pw")
        .backend(backend.port(), 1)
        .maxAttempts(5)
        .wrapAuthenticator(a -> auth.around(new UnavailableFor("down", a)))
        .start();
  }

  @BeforeEach
  void resetCounts() {
    auth.reset();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
    backend.close();
  }

  /** An auth source that is down for one user name and fine for everyone else. */
  private record UnavailableFor(String user, io.postern.auth.Authenticator delegate)
      implements io.postern.auth.Authenticator {
    @Override
    public String source() {
      return delegate.source();
    }

    @Override
    public io.vertx.core.Future<io.postern.auth.AuthResult> authenticate(
        io.postern.auth.AuthRequest request) {
      return request.credentials().user().equals(user)
          ? io.vertx.core.Future.succeededFuture(new io.postern.auth.AuthResult.Unavailable("test"))
          : delegate.authenticate(request);
    }
  }

  private Conversation imap() throws Exception {
    Conversation c = MailClient.plain(postern.port("imap"), postern.tls());
    c.expect("* OK");
    return c;
  }

  private Conversation imaps() throws Exception {
    Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls());
    c.expect("* OK");
    return c;
  }

  @Test
  void greetingShouldOfferStartTlsAndLogindisabledBeforeTls() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("imap"), postern.tls())) {
      String greeting = c.readLine();
      assertThat(greeting).startsWith("* OK [CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ STARTTLS"
          + " LOGINDISABLED]").doesNotContain("AUTH=").doesNotContain("PREAUTH");
      c.send("a CAPABILITY\r\n");
      assertThat(c.readUntil("a ")).containsExactly(
          "* CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ STARTTLS LOGINDISABLED",
          "a OK Capability completed.");
    }
  }

  @Test
  void capabilityShouldOfferAuthMechanismsOnlyAfterStartTls() throws Exception {
    try (Conversation c = imap()) {
      c.send("a STARTTLS\r\n");
      assertThat(c.readLine()).isEqualTo("a OK Begin TLS negotiation now.");
      c.startTls(true);
      c.send("b CAPABILITY\r\n");
      assertThat(c.readUntil("b ")).containsExactly(
          "* CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+ AUTH=PLAIN AUTH=LOGIN",
          "b OK Capability completed.");
      c.send("c STARTTLS\r\n");
      assertThat(c.readLine()).startsWith("c BAD");
      c.send("d NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("d OK NOOP completed.");
    }
  }

  @Test
  void startTlsShouldWorkOnEveryListenerInstance() throws Exception {
    // Connections are spread over the listener's instances (one per event loop); each must be
    // able to upgrade, not only the instance that bound the port.
    for (int i = 0; i < 8; i++) {
      try (Conversation c = imap()) {
        c.send("a STARTTLS\r\n");
        assertThat(c.readLine()).as("connection %d", i).isEqualTo("a OK Begin TLS negotiation now.");
        c.startTls(true);
        c.send("b NOOP\r\n");
        assertThat(c.readLine()).isEqualTo("b OK NOOP completed.");
      }
    }
  }

  @Test
  void startTlsShouldBeRefusedOnTheImplicitTlsListener() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a STARTTLS\r\nb NOOP\r\n");
      assertThat(c.readLine()).startsWith("a BAD");
      assertThat(c.readLine()).isEqualTo("b OK NOOP completed.");
    }
  }

  @Test
  void loginBeforeTlsShouldBeRefusedWithoutAskingTheAuthSource() throws Exception {
    int connectionsBefore = backend.connections();
    try (Conversation c = imap()) {
      String plain = Base64.getEncoder().encodeToString("\0alice\0alice-pw".getBytes());
      c.send("a LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).startsWith("a NO [PRIVACYREQUIRED]");
      c.send("b AUTHENTICATE PLAIN " + plain + "\r\n");
      assertThat(c.readLine()).startsWith("b NO [PRIVACYREQUIRED]");
      c.send("c AUTHENTICATE LOGIN\r\n");
      assertThat(c.readLine()).startsWith("c NO [PRIVACYREQUIRED]");
    }
    assertThat(auth.calls()).isZero();
    assertThat(backend.connections()).isEqualTo(connectionsBefore);
  }

  @Test
  void startTlsShouldDiscardCommandsPipelinedInTheSameWrite() throws Exception {
    for (String injected : List.of("b CAPABILITY\r\n",
        "b CAPABILITY\r\nc LOGIN alice alice-pw\r\nd NOOP\r\n")) {
      try (Conversation c = imap()) {
        c.send("a STARTTLS\r\n" + injected);
        assertThat(c.readLine()).isEqualTo("a OK Begin TLS negotiation now.");
        c.startTls(true);
        assertThat(c.available(300)).as("replies to injected commands").isEmpty();
        c.send("z CAPABILITY\r\n");
        assertThat(c.readLine()).startsWith("* CAPABILITY");
        assertThat(c.readLine()).startsWith("z OK");
      }
    }
    assertThat(auth.calls()).isZero();
  }

  @Test
  void startTlsShouldDiscardAPartialLinePipelinedAfterIt() throws Exception {
    try (Conversation c = imap()) {
      c.send("a STARTTLS\r\nb LOG");
      assertThat(c.readLine()).isEqualTo("a OK Begin TLS negotiation now.");
      c.startTls(true);
      c.send("IN alice alice-pw\r\n");
      assertThat(c.readLine()).startsWith("IN BAD");
    }
    assertThat(auth.calls()).isZero();
  }

  @Test
  void loginShouldRelayToTheBackendWithTheClientTagAndBackendCapabilities() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a1 LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo("a1 OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in");
      c.send("a2 WHOAMI\r\n");
      assertThat(c.readUntil("a2 ")).containsExactly("* WHOAMI alice", "a2 OK done");
    }
  }

  @Test
  void commandsPipelinedAfterLoginShouldReachTheBackendInOrder() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN alice alice-pw\r\nb WHOAMI\r\nc LOGOUT\r\n");
      assertThat(c.readUntil("c ")).containsExactly(
          "a OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in",
          "* WHOAMI alice", "b OK done", "* BYE backend logging out", "c OK LOGOUT completed");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void wrongPasswordShouldGetAuthenticationFailedAndKeepTheConnection() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN alice wrong\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.");
      c.send("b LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).startsWith("b OK");
    }
  }

  @Test
  void synchronisingLiteralsShouldGetContinuationsAndLogIn() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN {5}\r\n");
      assertThat(c.readLine()).startsWith("+ ");
      c.send("alice {8}\r\n");
      assertThat(c.readLine()).startsWith("+ ");
      c.send("alice-pw\r\n");
      assertThat(c.readLine()).startsWith("a OK");
    }
  }

  @Test
  void aPasswordOverOneKilobyteShouldFailWithoutAskingTheAuthSource() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN alice {1025}\r\n");
      assertThat(c.readLine()).startsWith("+ ");
      c.send("p".repeat(1025) + "\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.");
      assertThat(auth.calls()).isZero();
      c.send("b LOGIN alice {1024}\r\n");
      assertThat(c.readLine()).startsWith("+ ");
      c.send("p".repeat(1024) + "\r\n");
      assertThat(c.readLine()).isEqualTo("b NO [AUTHENTICATIONFAILED] Authentication failed.");
      assertThat(auth.calls()).isEqualTo(1);
    }
  }

  @Test
  void tokenMechanismsShouldBeUnknownWhereTheSourceChecksOnlyPasswords() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE XOAUTH2 " + Base64.getEncoder().encodeToString(
          "user=alice\u0001auth=Bearer tok\u0001\u0001".getBytes(StandardCharsets.UTF_8))
          + "\r\n");
      assertThat(c.readLine()).isEqualTo("a NO Unsupported authentication mechanism.");
      c.send("b AUTHENTICATE OAUTHBEARER\r\n");
      assertThat(c.readLine()).isEqualTo("b NO Unsupported authentication mechanism.");
    }
    assertThat(auth.calls()).isZero();
  }

  @Test
  void authenticatePlainShouldWorkWithContinuationAndCancel() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE PLAIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ ");
      c.send("*\r\n");
      assertThat(c.readLine()).isEqualTo("a BAD Authentication cancelled.");
      c.send("b AUTHENTICATE PLAIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ ");
      c.send(Base64.getEncoder().encodeToString("\0alice\0alice-pw".getBytes(
          StandardCharsets.UTF_8)) + "\r\n");
      assertThat(c.readLine()).startsWith("b OK [CAPABILITY");
    }
  }

  @Test
  void authenticateLoginShouldPromptForUserAndPassword() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE LOGIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ VXNlcm5hbWU6");
      c.send(Base64.getEncoder().encodeToString("alice".getBytes()) + "\r\n");
      assertThat(c.readLine()).isEqualTo("+ UGFzc3dvcmQ6");
      c.send(Base64.getEncoder().encodeToString("alice-pw".getBytes()) + "\r\n");
      assertThat(c.readLine()).startsWith("a OK");
    }
  }

  @Test
  void idShouldBeAnsweredByPosternAndForwardedToTheBackend() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a ID (\"name\" \"TestClient\" \"x-originating-ip\" \"203.0.113.66\""
          + " \"version\" \"1.0\" \"x-forward-user\" \"root\")\r\n");
      assertThat(c.readUntil("a ")).containsExactly("* ID (\"name\" \"Postern\")",
          "a OK ID completed.");
      c.send("b LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).startsWith("b OK");
    }
    // Only RFC 2971's own fields go on: x- fields are what backends trust from their proxy.
    assertThat(backend.received()).contains("I1 ID (\"name\" \"TestClient\" \"version\" \"1.0\")");
  }

  @Test
  void anIdSentBeforeStartTlsShouldBeForgotten() throws Exception {
    try (Conversation c = imap()) {
      c.send("a ID (\"name\" \"InjectedBeforeTls\")\r\n");
      c.readUntil("a ");
      c.send("b STARTTLS\r\n");
      c.expect("b OK");
      c.startTls(true);
      c.send("c LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).startsWith("c OK");
    }
    assertThat(backend.received()).noneMatch(l -> l.contains("InjectedBeforeTls"));
  }

  @Test
  void tooManyInvalidCommandsShouldCloseTheConnection() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a FOO\r\nb SELECT INBOX\r\nc\r\n* NOOP\r\ne BAR\r\nf NOOP\r\n");
      assertThat(c.readLine()).startsWith("a BAD");
      assertThat(c.readLine()).startsWith("b BAD");
      assertThat(c.readLine()).startsWith("c BAD");
      assertThat(c.readLine()).startsWith("* BAD");
      assertThat(c.readLine()).startsWith("e BAD");
      assertThat(c.readLine()).isEqualTo("* BYE Too many invalid commands.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void anOverlongLineShouldGetByeAndClose() throws Exception {
    try (Conversation c = imaps()) {
      c.sendRaw(("a LOGIN " + "x".repeat(9000)).getBytes(StandardCharsets.US_ASCII));
      assertThat(c.readLine()).isEqualTo("* BYE [TOOBIG] Command line too long.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void aLiteralOverTheLimitShouldGetByeWithoutContinuation() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN {99999999999999999999}\r\n");
      assertThat(c.readLine()).isEqualTo("* BYE [TOOBIG] Literal too big.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void logoutShouldSayByeAndClose() throws Exception {
    try (Conversation c = imap()) {
      c.send("a LOGOUT\r\n");
      assertThat(c.readUntil("a ")).containsExactly("* BYE Logging out.", "a OK Logout completed.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void anUnavailableAuthSourceShouldGetUnavailableAndKeepTheConnection() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN down whatever\r\n");
      assertThat(c.readLine()).isEqualTo(
          "a NO [UNAVAILABLE] Service temporarily unavailable, try again later.");
      c.send("b LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).startsWith("b OK");
    }
  }

  @Test
  void maxAttemptsFailedLoginsShouldEndWithBye() throws Exception {
    try (Conversation c = imaps()) {
      for (int i = 1; i <= 5; i++) {
        c.send("a" + i + " LOGIN alice wrong" + i + "\r\n");
        assertThat(c.readLine()).isEqualTo("a" + i
            + " NO [AUTHENTICATIONFAILED] Authentication failed.");
      }
      assertThat(c.readLine()).isEqualTo("* BYE Too many authentication failures.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void loginTimingsShouldNotDependOnTheUserExisting() throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN nobody wrong\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [AUTHENTICATIONFAILED] Authentication failed.");
    }
  }
}
