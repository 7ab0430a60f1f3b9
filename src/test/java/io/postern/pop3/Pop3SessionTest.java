package io.postern.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsMode;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.CountingAuthenticator;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** POP3 before login, as a client sees it, with a scripted backend behind Postern. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Pop3SessionTest {

  private static final String BEGIN_TLS = "+OK Begin TLS negotiation now.";
  private static final String AUTH_FAILED = "-ERR [AUTH] Authentication failed.";
  private static final String LOGGED_IN = "+OK Logged in as alice";
  private static final String SPACED_PASSWORD = "pass word with  spaces ";

  @TempDir
  static Path dir;

  private FakeBackend backend;
  private FakeBackend spacesBackend;
  private PosternFixture postern;
  private final CountingAuthenticator auth = new CountingAuthenticator();

  @BeforeAll
  void start() throws Exception {
    TestTls backendTls = TestTls.shared("localhost");
    // The default backend offers SASL PLAIN, so Postern logs in there with AUTH PLAIN ...
    backend = FakeBackend.start(BackendScripts.pop3("USER\r\nSASL PLAIN\r\n", "alice", "alice-pw",
        BackendScripts.pop3Commands()), backendTls);
    // ... and this one only USER/PASS, so the backend sees the PASS line as Postern sends it.
    spacesBackend = FakeBackend.start(BackendScripts.pop3("USER\r\n", "carol", SPACED_PASSWORD,
        BackendScripts.pop3Commands()), backendTls);
    postern = PosternFixture.builder(dir)
        .user("alice", "alice-pw")
        .passwdLine("carol:{PLAIN}" + SPACED_PASSWORD + "::::::backend=spaces")
        .backend(1, backend.port())
        .backend("spaces", "127.0.0.1", 1, TlsMode.NONE, spacesBackend.port(), TlsMode.NONE,
            true, null)
        .wrapAuthenticator(auth::around)
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
    spacesBackend.close();
  }

  private static Conversation pop3(PosternFixture server) throws Exception {
    Conversation c = MailClient.plain(server.port("pop3"), server.tls());
    assertThat(c.readLine()).startsWith("+OK");
    return c;
  }

  private static Conversation pop3s(PosternFixture server) throws Exception {
    Conversation c = MailClient.implicitTls(server.port("pop3s"), server.tls());
    assertThat(c.readLine()).startsWith("+OK");
    return c;
  }

  private Conversation pop3() throws Exception {
    return pop3(postern);
  }

  private Conversation pop3s() throws Exception {
    return pop3s(postern);
  }

  /** A {@code pop3} connection after a successful STLS. */
  private Conversation pop3WithStls() throws Exception {
    Conversation c = pop3();
    c.send("STLS\r\n");
    assertThat(c.readLine()).isEqualTo(BEGIN_TLS);
    c.startTls(true);
    return c;
  }

  private static String b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static List<String> capa(Conversation c) throws IOException {
    c.send("CAPA\r\n");
    return c.readUntil(".");
  }

  // --- CAPA and greeting ---------------------------------------------------------------------

  @Test
  void capaShouldOfferStlsAndNoPasswordCommandsBeforeTls() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("pop3"), postern.tls())) {
      // No APOP timestamp: APOP is not offered (STL-10).
      assertThat(c.readLine()).startsWith("+OK").doesNotContain("<");
      assertThat(capa(c)).containsExactly("+OK Capability list follows.", "STLS", "RESP-CODES",
          "AUTH-RESP-CODE", "PIPELINING", "TOP", "UIDL", "IMPLEMENTATION Postern", ".");
    }
  }

  @Test
  void capaShouldOfferUserAndSaslButNoStlsAfterStls() throws Exception {
    try (Conversation c = pop3WithStls()) {
      assertThat(capa(c)).containsExactly("+OK Capability list follows.", "USER",
          "SASL PLAIN LOGIN", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "TOP", "UIDL",
          "IMPLEMENTATION Postern", ".");
    }
  }

  @Test
  void capaShouldNotOfferStlsOnTheImplicitTlsListener() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(capa(c)).containsExactly("+OK Capability list follows.", "USER",
          "SASL PLAIN LOGIN", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "TOP", "UIDL",
          "IMPLEMENTATION Postern", ".");
    }
  }

  // --- Cleartext refused (STL-06) ------------------------------------------------------------

  @Test
  void loginCommandsBeforeTlsShouldBeRefusedWithoutAskingTheAuthSource() throws Exception {
    int connectionsBefore = backend.connections();
    try (Conversation c = pop3()) {
      c.send("AUTH LOGIN\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
      c.send("AUTH\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
      c.send("USER alice\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
      // Still usable: CAPA is answered, and still offers only STLS.
      assertThat(capa(c)).contains("STLS").doesNotContain("USER", "SASL PLAIN LOGIN");
    }
    try (Conversation c = pop3()) {
      c.send("PASS alice-pw\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
      c.send("AUTH PLAIN " + b64("\0alice\0alice-pw") + "\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
    }
    assertThat(auth.calls()).isZero();
    assertThat(backend.connections()).isEqualTo(connectionsBefore);
  }

  @Test
  void askingForTheMechanismListBeforeTlsShouldNotCostAnAttempt() throws Exception {
    try (Conversation c = pop3()) {
      for (int i = 0; i < 4; i++) {
        c.send("AUTH\r\n");
        assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
      }
      assertThat(capa(c)).contains("STLS");
    }
  }

  @Test
  void passwordsSentBeforeTlsShouldCountAsFailedAttempts() throws Exception {
    try (Conversation c = pop3()) {
      c.send("PASS one\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
      c.send("AUTH PLAIN " + b64("\0alice\0two") + "\r\n");
      assertThat(c.readLine()).startsWith("-ERR [AUTH] ");
      c.send("AUTH LOGIN\r\n");
      assertThat(c.readLine()).isEqualTo("-ERR [SYS/TEMP] Too many authentication failures.");
      assertThat(c.closedByPeer(5000)).as("closed after max-attempts (3) refusals").isTrue();
    }
    assertThat(auth.calls()).isZero();
  }

  // --- STLS (STL-02, STL-03, STL-07) ---------------------------------------------------------

  @Test
  void stlsShouldDiscardCommandsPipelinedInTheSameWrite() throws Exception {
    int connectionsBefore = backend.connections();
    for (String injected : List.of("CAPA\r\n", "USER alice\r\nPASS alice-pw\r\n")) {
      try (Conversation c = pop3()) {
        c.send("STLS\r\n" + injected);
        assertThat(c.readLine()).isEqualTo(BEGIN_TLS);
        c.startTls(true);
        assertThat(c.available(300)).as("replies to injected %s", injected.strip()).isEmpty();
        assertThat(capa(c)).as("fresh CAPA over TLS").contains("USER").doesNotContain("STLS");
        // The injected USER was never run: PASS over TLS finds no user.
        c.send("PASS alice-pw\r\n");
        assertThat(c.readLine()).isEqualTo("-ERR No USER given.");
      }
    }
    assertThat(auth.calls()).isZero();
    assertThat(backend.connections()).isEqualTo(connectionsBefore);
  }

  @Test
  void stlsShouldDiscardAPartialLinePipelinedAfterIt() throws Exception {
    try (Conversation c = pop3()) {
      c.send("STLS\r\nUSE");
      assertThat(c.readLine()).isEqualTo(BEGIN_TLS);
      c.startTls(true);
      c.send("R alice\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("PASS alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo("-ERR No USER given.");
    }
    assertThat(auth.calls()).isZero();
  }

  @Test
  void stlsShouldBeRefusedWhenTlsIsAlreadyActive() throws Exception {
    try (Conversation c = pop3WithStls()) {
      c.send("STLS\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      assertThat(c.isTls()).isTrue();
      assertThat(capa(c)).startsWith("+OK Capability list follows.").endsWith(".");
    }
  }

  @Test
  void stlsShouldBeRefusedOnTheImplicitTlsListener() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("STLS\r\nUSER alice\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      assertThat(c.readLine()).isEqualTo("+OK");
      c.send("PASS alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
    }
  }

  // --- Logging in ----------------------------------------------------------------------------

  @Test
  void userPassShouldGetTheBackendReplyAndThenRelay() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("USER alice\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      c.send("PASS alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
      c.send("STAT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK STAT");
      c.send("QUIT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK bye");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void userPassShouldWorkAfterStls() throws Exception {
    try (Conversation c = pop3WithStls()) {
      c.send("USER alice\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      c.send("PASS alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
      c.send("LIST\r\n");
      assertThat(c.readLine()).isEqualTo("+OK LIST");
    }
  }

  @Test
  void authPlainWithInitialResponseShouldLogIn() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH PLAIN " + b64("\0alice\0alice-pw") + "\r\n");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
      c.send("UIDL\r\n");
      assertThat(c.readLine()).isEqualTo("+OK UIDL");
    }
  }

  @Test
  void authPlainWithoutInitialResponseShouldSendAnEmptyContinuation() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH PLAIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ ");
      c.send(b64("alice\0alice\0alice-pw") + "\r\n");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
      c.send("STAT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK STAT");
    }
  }

  @Test
  void authLoginShouldPromptForUserAndPassword() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH LOGIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ VXNlcm5hbWU6");
      c.send(b64("alice") + "\r\n");
      assertThat(c.readLine()).isEqualTo("+ UGFzc3dvcmQ6");
      c.send(b64("alice-pw") + "\r\n");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
      c.send("STAT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK STAT");
    }
  }

  @Test
  void authMechanismNamesShouldBeCaseInsensitive() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("auth login\r\n");
      assertThat(c.readLine()).isEqualTo("+ VXNlcm5hbWU6");
      c.send("*\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("auth plain " + b64("\0alice\0alice-pw") + "\r\n");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
    }
  }

  // --- Pipelining (PAR-35) -------------------------------------------------------------------

  @Test
  void pipelinedUserPassShouldBeAnsweredInOrderAndReachTheBackend() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("USER alice\r\nPASS alice-pw\r\nSTAT\r\nQUIT\r\n");
      assertThat(List.of(c.readLine(), c.readLine(), c.readLine(), c.readLine()))
          .containsExactly("+OK", LOGGED_IN, "+OK STAT", "+OK bye");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void pipelinedAuthLoginShouldBeAnsweredInOrder() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH LOGIN\r\n" + b64("alice") + "\r\n" + b64("alice-pw") + "\r\nNOOP\r\n");
      assertThat(List.of(c.readLine(), c.readLine(), c.readLine(), c.readLine()))
          .containsExactly("+ VXNlcm5hbWU6", "+ UGFzc3dvcmQ6", LOGGED_IN, "+OK NOOP");
    }
  }

  @Test
  void commandsPipelinedAfterAFailedLoginShouldBeReadAsPreAuthCommands() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("USER alice\r\nPASS wrong\r\nUSER alice\r\nPASS alice-pw\r\nSTAT\r\n");
      assertThat(List.of(c.readLine(), c.readLine(), c.readLine(), c.readLine(), c.readLine()))
          .containsExactly("+OK", AUTH_FAILED, "+OK", LOGGED_IN, "+OK STAT");
    }
  }

  // --- Arguments and SASL edge cases (PAR-32..34) --------------------------------------------

  @Test
  void passWithSpacesShouldReachTheBackendWhole() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("USER carol\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      c.send("PASS " + SPACED_PASSWORD + "\r\n");
      assertThat(c.readLine()).isEqualTo("+OK Logged in as carol");
    }
    assertThat(spacesBackend.received()).contains("PASS " + SPACED_PASSWORD);
  }

  @Test
  void passWithoutUserShouldBeRefusedWithoutAskingTheAuthSource() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("PASS alice-pw\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      // A failed login forgets the user: a second PASS needs a new USER.
      c.send("USER alice\r\nPASS wrong\r\nPASS alice-pw\r\n");
      assertThat(List.of(c.readLine(), c.readLine(), c.readLine()))
          .containsExactly("+OK", AUTH_FAILED, "-ERR No USER given.");
    }
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void starShouldCancelAuthAndKeepTheConnectionUsable() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH PLAIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ ");
      c.send("*\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("AUTH LOGIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ VXNlcm5hbWU6");
      c.send(b64("alice") + "\r\n");
      assertThat(c.readLine()).isEqualTo("+ UGFzc3dvcmQ6");
      c.send("*\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      // Nothing of the cancelled exchange survives: a new AUTH starts from the beginning.
      c.send("AUTH LOGIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ VXNlcm5hbWU6");
      c.send(b64("alice") + "\r\n" + b64("alice-pw") + "\r\n");
      assertThat(c.readLine()).isEqualTo("+ UGFzc3dvcmQ6");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
    }
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void invalidBase64ShouldGetErrAndKeepTheConnectionUsable() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH PLAIN !!not*base64\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("AUTH LOGIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ VXNlcm5hbWU6");
      c.send("YW=xpY2U\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("AUTH PLAIN\r\n");
      assertThat(c.readLine()).isEqualTo("+ ");
      c.send("\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("USER alice\r\nPASS alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
    }
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void unknownMechanismAndApopShouldGetErrAndAuthAloneShouldListMechanisms() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH CRAM-MD5\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("AUTH EXTERNAL =\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("AUTH\r\n");
      assertThat(c.readUntil(".")).containsExactly("+OK", "PLAIN", "LOGIN", ".");
    }
    assertThat(auth.calls()).isZero();
  }

  @Test
  void aPlainMessageForAnotherUserShouldBeRefusedWithoutAskingTheAuthSource() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("AUTH PLAIN " + b64("carol\0alice\0alice-pw") + "\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("AUTH PLAIN " + b64("alice\0alice-pw") + "\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
    }
    assertThat(auth.calls()).isZero();
  }

  // --- Failures (DOS-01, DOS-04) -------------------------------------------------------------

  @Test
  void wrongPasswordShouldGetAuthFailedAndKeepTheConnection() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("USER alice\r\nPASS wrong\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      assertThat(c.readLine()).isEqualTo(AUTH_FAILED);
      c.send("AUTH PLAIN " + b64("\0nobody\0alice-pw") + "\r\n");
      assertThat(c.readLine()).as("unknown user, same reply").isEqualTo(AUTH_FAILED);
      c.send("USER alice\r\nPASS alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      assertThat(c.readLine()).isEqualTo(LOGGED_IN);
    }
  }

  @Test
  void theThirdFailedLoginShouldCloseTheConnection() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("USER alice\r\nPASS wrong1\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      assertThat(c.readLine()).isEqualTo(AUTH_FAILED);
      c.send("AUTH PLAIN " + b64("\0alice\0wrong2") + "\r\n");
      assertThat(c.readLine()).isEqualTo(AUTH_FAILED);
      c.send("AUTH LOGIN\r\n" + b64("alice") + "\r\n" + b64("wrong3") + "\r\n");
      assertThat(c.readLine()).isEqualTo("+ VXNlcm5hbWU6");
      assertThat(c.readLine()).isEqualTo("+ UGFzc3dvcmQ6");
      // DESIGN.md §5: too many attempts is -ERR [SYS/TEMP], then the connection closes.
      assertThat(c.readLine()).isEqualTo("-ERR [SYS/TEMP] Too many authentication failures.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
    assertThat(auth.calls()).isEqualTo(3);
  }

  // --- Limits (PAR-30, PAR-31, PAR-36) -------------------------------------------------------

  @Test
  void a255OctetUserLineShouldBeAccepted() throws Exception {
    String line = "USER " + "u".repeat(248) + "\r\n";
    assertThat(line.length()).isEqualTo(255);
    try (Conversation c = pop3s()) {
      c.send(line);
      assertThat(c.readLine()).isEqualTo("+OK");
      c.send("PASS secret\r\n");
      assertThat(c.readLine()).isEqualTo(AUTH_FAILED);
    }
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void aTenKilobyteLineWithoutLineEndShouldGetErrAndClose() throws Exception {
    try (Conversation c = pop3s()) {
      c.sendRaw(("USER " + "x".repeat(10 * 1024)).getBytes(StandardCharsets.US_ASCII));
      assertThat(c.readLine()).isEqualTo("-ERR Command line too long.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void tooManyInvalidCommandsShouldCloseTheConnection() throws Exception {
    try (Conversation c = pop3s()) {
      c.send("FOO\r\nRETR 1\r\nAPOP alice 0123\r\nUSER\r\nSTAT x\r\nCAPA\r\n");
      for (int i = 1; i <= 4; i++) {
        assertThat(c.readLine()).as("reply %d", i).startsWith("-ERR");
      }
      assertThat(c.readLine()).isEqualTo("-ERR Too many invalid commands.");
      assertThat(c.closedByPeer(5000)).as("closed, CAPA not answered").isTrue();
    }
  }

  @Test
  void quitShouldSayGoodbyeAndClose() throws Exception {
    try (Conversation c = pop3()) {
      c.send("QUIT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK Logging out.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  // --- Timing: failure delay and the pre-auth deadline ---------------------------------------

  /** {@code failure-delay: 500ms}: every failure is answered late, other logins are not held up. */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithAFailureDelay {

    private PosternFixture slow;

    @BeforeAll
    void start() throws Exception {
      slow = PosternFixture.builder(dir.resolve("failure-delay"))
          .user("alice", "alice-pw")
          .backend(1, backend.port())
          .failureDelay(Duration.ofMillis(500))
          .start();
    }

    @AfterAll
    void stop() throws Exception {
      slow.close();
    }

    @Test
    void aFailedLoginShouldBeAnsweredAfterTheDelayWhileAnotherConnectionLogsIn()
        throws Exception {
      try (Conversation failing = pop3s(slow); Conversation good = pop3s(slow)) {
        failing.send("USER alice\r\n");
        assertThat(failing.readLine()).isEqualTo("+OK");
        good.send("USER alice\r\n");
        assertThat(good.readLine()).isEqualTo("+OK");

        long sent = System.nanoTime();
        failing.send("PASS wrong\r\n");
        good.send("PASS alice-pw\r\n");
        assertThat(good.readLine()).isEqualTo(LOGGED_IN);
        long goodDone = System.nanoTime();
        assertThat(failing.readLine()).isEqualTo(AUTH_FAILED);
        long failDone = System.nanoTime();

        assertThat(Duration.ofNanos(failDone - sent)).isGreaterThanOrEqualTo(
            Duration.ofMillis(500));
        assertThat(goodDone).as("the good login did not wait for the failing one")
            .isLessThan(failDone);
      }
    }
  }

  /** {@code preauth-timeout: 1s}: a deadline from connect that trickled bytes do not extend. */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithAShortPreAuthDeadline {

    private PosternFixture quick;

    @BeforeAll
    void start() throws Exception {
      quick = PosternFixture.builder(dir.resolve("deadline"))
          .user("alice", "alice-pw")
          .backend(1, backend.port())
          .preauthTimeout(Duration.ofSeconds(1))
          .start();
    }

    @AfterAll
    void stop() throws Exception {
      quick.close();
    }

    /** What a slow client got back, how long after connecting, and how many bytes it sent. */
    private record Trickled(String reply, Duration after, int bytesSent) {}

    /**
     * Sends {@code data} one byte at a time, every ~200 ms (the read timeout paces the client),
     * until Postern answers or about 4 s pass.
     */
    private Trickled trickle(Conversation c, long connectedAt, String data) throws IOException {
      byte[] bytes = data.getBytes(StandardCharsets.US_ASCII);
      int sent = 0;
      byte[] got = new byte[0];
      for (int round = 0; round < 20 && got.length == 0; round++) {
        try {
          c.sendRaw(new byte[] {bytes[round % bytes.length]});
          sent++;
        } catch (IOException e) {
          // Closed while we were sending: read what came before the close.
        }
        got = c.available(200);
      }
      return new Trickled(new String(got, StandardCharsets.US_ASCII),
          Duration.ofNanos(System.nanoTime() - connectedAt), sent);
    }

    private Trickled slowUserLine() throws Exception {
      long t0 = System.nanoTime();
      try (Conversation c = pop3(quick)) {
        return trickle(c, t0, "USER aliceaaaaaaaaaaaaaaaaaaaaaaa");
      }
    }

    private Trickled slowSaslResponse() throws Exception {
      long t0 = System.nanoTime();
      try (Conversation c = pop3s(quick)) {
        c.send("AUTH PLAIN\r\n");
        assertThat(c.readLine()).isEqualTo("+ ");
        return trickle(c, t0, b64("\0alice\0alice-pw"));
      }
    }

    @Test
    void aClientTricklingBytesShouldBeClosedAtTheDeadline() throws Exception {
      // Both at once, so the test costs one deadline: a command line and a SASL response.
      CompletableFuture<Trickled> line =
          CompletableFuture.supplyAsync(() -> call(this::slowUserLine));
      CompletableFuture<Trickled> sasl =
          CompletableFuture.supplyAsync(() -> call(this::slowSaslResponse));
      for (Trickled t : List.of(line.get(20, TimeUnit.SECONDS), sasl.get(20, TimeUnit.SECONDS))) {
        assertThat(t.reply()).isEqualTo("-ERR Timed out waiting for login.\r\n");
        assertThat(t.bytesSent()).as("bytes trickled before the deadline")
            .isGreaterThanOrEqualTo(3);
        assertThat(t.after()).isBetween(Duration.ofMillis(950), Duration.ofMillis(2500));
      }
    }
  }

  @FunctionalInterface
  private interface IoCall<T> {
    T call() throws Exception;
  }

  private static <T> T call(IoCall<T> body) {
    try {
      return body.call();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
