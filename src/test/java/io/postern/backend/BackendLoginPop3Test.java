package io.postern.backend;

import static io.postern.backend.BackendFaults.millisSince;
import static io.postern.backend.BackendFaults.silent;
import static io.postern.backend.BackendFaults.untilHangUp;
import static io.postern.backend.BackendLoginTest.CONNECT_TIMEOUT;
import static io.postern.backend.BackendLoginTest.LOGIN_TIMEOUT;
import static io.postern.backend.BackendLoginTest.saslPlain;
import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsMode;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * How Postern logs in to POP3 backends, and what a client on {@code pop3s} sees for every backend
 * fault. The same layout as {@link BackendLoginTest}: one Postern, one fake backend per scenario,
 * each reached through a user whose record says {@code backend=NAME}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackendLoginPop3Test {

  private static final String PW = "secret";
  private static final String SPECIAL_PW = "pa ss \"w\\rd";
  private static final String TEMP_FAILURE = "-ERR [SYS/TEMP] ";
  private static final String AUTH_FAILED = "-ERR [AUTH] Authentication failed.";

  @TempDir
  static Path dir;

  private final TestTls localhostTls = TestTls.shared("localhost");
  private TestTls otherTls;
  private final FakeBackends fakes = new FakeBackends();
  private PosternFixture.Builder builder;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    otherTls = TestTls.forHost("other.example");
    builder = PosternFixture.builder(dir).maxAttempts(20)
        .backendTimeouts(CONNECT_TIMEOUT, LOGIN_TIMEOUT)
        .user("good", PW);
    FakeBackend good = FakeBackend.start(login("USER\r\n", "good", PW), localhostTls);
    fakes.add("default", good);
    builder.backend("default", "127.0.0.1", 1, TlsMode.NONE, good.port(), TlsMode.NONE, true, null);

    plainBackend("userpass", login("USER\r\n", "userpass", SPECIAL_PW), SPECIAL_PW);
    plainBackend("authplain", login("SASL PLAIN LOGIN\r\nUSER\r\n", "authplain", PW), PW);

    builder.backend("closedport", "127.0.0.1", 1, TlsMode.NONE, Ports.closed(), TlsMode.NONE, true,
        null).passwdLine(passwdLine("closedport", PW, "backend=closedport"));
    plainBackend("silent", silent(fakes.hangUp("silent")), PW);
    plainBackend("errgreeting", fakes.greets("errgreeting", "-ERR [SYS/TEMP] Overloaded\r\n"), PW);
    plainBackend("imapgreeting", fakes.greets("imapgreeting", "* OK IMAP4rev1 ready\r\n"), PW);
    plainBackend("garbage", fakes.greets("garbage", "GARBAGE".repeat(1500)), PW);
    plainBackend("closes", c -> {
      c.send("+OK ready\r\n");
      String line;
      while (!(line = c.readLine()).startsWith("PASS ")) {
        c.send(line.equals("CAPA") ? "+OK\r\nUSER\r\n.\r\n" : "+OK\r\n");
      }
      c.close();
    }, PW);

    // Backends that want TLS, reached with tls: none (Dovecot's and Courier's own words).
    plainBackend("dovecottls", wantsTls("TOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
        + "AUTH-RESP-CODE\r\nSTLS\r\nSASL\r\n", "-ERR [AUTH] Plaintext authentication"
        + " disallowed on non-secure (SSL/TLS) connections."), PW);
    plainBackend("couriertls", wantsTls("STLS\r\nTOP\r\nUSER\r\nLOGIN-DELAY 10\r\n"
        + "PIPELINING\r\nUIDL\r\n", "-ERR TLS required to log in."), PW);
    plainBackend("couriersasl", wantsTls("SASL LOGIN PLAIN\r\nSTLS\r\nTOP\r\nUSER\r\n",
        "-ERR TLS required to log in."), PW);
    plainBackend("nosuchuser", wantsTls("TOP\r\nUSER\r\n", "-ERR No such user"), PW);
    plainBackend("authrefused", refuses("-ERR [AUTH] Invalid credentials"), PW);
    plainBackend("plainrefused", refuses("-ERR Invalid credentials"), PW);
    plainBackend("inuse", refuses("-ERR [IN-USE] Mailbox locked by another session"), PW);
    plainBackend("systemp", refuses("-ERR [SYS/TEMP] Storage offline"), PW);

    startTls("stls", "+OK Begin TLS\r\n", localhostTls, localhostTls.certPath());
    startTls("stlserr", "-ERR STLS not available\r\n", localhostTls, localhostTls.certPath());
    startTls("stlsinject", "+OK Begin TLS\r\n+OK injected\r\n", localhostTls,
        localhostTls.certPath());
    startTls("stlswrongname", "+OK Begin TLS\r\n", otherTls, otherTls.certPath());

    implicit("implicit", localhostTls, true, localhostTls.certPath());
    implicit("wrongname", otherTls, true, otherTls.certPath());
    implicit("noverify", otherTls, false, null);
    FakeBackend plaintext = FakeBackend.start(fakes.greets("plaintls", "+OK fake\r\n"), localhostTls);
    fakes.add("plaintls", plaintext);
    builder.backend("plaintls", "localhost", 1, TlsMode.NONE, plaintext.port(), TlsMode.IMPLICIT,
        true, localhostTls.certPath()).passwdLine(passwdLine("plaintls", PW, "backend=plaintls"));

    plainBackend("rewrite", login("USER\r\n", "back-user", "master-secret"), "front-pw");
    builder.passwdLine(passwdLine("front", "front-pw",
        "backend=rewrite destuser=back-user pass=master-secret"));
    plainBackend("locked", silent(fakes.hangUp("locked")), PW);
    builder.passwdLine(passwdLine("lockeduser", PW,
        "backend=locked nologin reason=Closed-for-maintenance"));

    postern = builder.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    fakes.close();
    otherTls.close();
  }

  @Test
  void userAndPassShouldCarryThePasswordUnchanged() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "userpass", SPECIAL_PW)).isEqualTo("+OK Logged in as userpass");
      c.send("STAT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK STAT");
    }
    assertThat(fakes.get("userpass").received())
        .containsExactly("CAPA", "USER userpass", "PASS " + SPECIAL_PW, "STAT");
  }

  @Test
  void authPlainShouldBeUsedWhenTheBackendOffersIt() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "authplain", PW)).isEqualTo("+OK Logged in as authplain");
    }
    assertThat(fakes.get("authplain").received())
        .containsExactly("CAPA", "AUTH PLAIN " + saslPlain("authplain", PW));
  }

  @Test
  void aClosedBackendPortShouldBeUnavailableWithinTheConnectTimeout() throws Exception {
    assertThat(assertTemporaryFailure("closedport")).isLessThan(CONNECT_TIMEOUT.toMillis());
  }

  @Test
  void aBackendThatNeverGreetsShouldBeUnavailableAfterTheLoginTimeout() throws Exception {
    long ms = assertTemporaryFailure("silent");
    assertThat(ms).isBetween(LOGIN_TIMEOUT.toMillis() - 100, LOGIN_TIMEOUT.toMillis() + 1500);
    assertThat(fakes.hangUp("silent").await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void errOrImapGreetingsShouldFailWithoutSendingAnything() throws Exception {
    for (String user : List.of("errgreeting", "imapgreeting")) {
      assertTemporaryFailure(user);
      assertThat(fakes.hangUp(user).await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(fakes.wire(user)).as(user).isEmpty();
    }
  }

  @Test
  void tenKilobytesOfGarbageShouldFailAndNeverReachTheClient() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "garbage", PW)).startsWith(TEMP_FAILURE);
      assertThat(c.available(200)).isEmpty();
      assertUsable(c);
    }
    assertThat(fakes.wire("garbage")).isEmpty();
  }

  @Test
  void aBackendClosingDuringLoginShouldBeUnavailable() throws Exception {
    assertTemporaryFailure("closes");
    assertThat(fakes.get("closes").received()).containsExactly("CAPA", "USER closes",
        "PASS secret");
  }

  @Test
  void backendRefusalsShouldKeepTheirResponseCodes() throws Exception {
    double inUse = count("postern.logins", "protocol", "pop3", "result", "in_use");
    double systemp = count("postern.backend.errors", "backend", "systemp", "reason",
        "unavailable");
    try (Conversation c = pop3s()) {
      assertThat(login(c, "authrefused", PW)).isEqualTo(AUTH_FAILED);
      assertThat(login(c, "plainrefused", PW)).isEqualTo(AUTH_FAILED);
      assertThat(login(c, "inuse", PW)).startsWith("-ERR [IN-USE] ")
          .doesNotContain("another session");
      assertThat(login(c, "systemp", PW)).startsWith(TEMP_FAILURE).doesNotContain("Storage");
      assertUsable(c);
    }
    // A locked mailbox is the user's doing: its own result, not a backend outage.
    assertThat(count("postern.logins", "protocol", "pop3", "result", "in_use") - inUse)
        .isEqualTo(1.0);
    assertThat(count("postern.backend.errors", "backend", "inuse")).isZero();
    assertThat(count("postern.backend.errors", "backend", "systemp", "reason", "unavailable")
        - systemp).isEqualTo(1.0);
  }

  @Test
  void aBackendThatWantsTlsShouldBeAConfigurationErrorNotAWrongPassword() throws Exception {
    LogCapture logs = LogCapture.start();
    try {
      for (String user : List.of("dovecottls", "couriertls", "couriersasl")) {
        double unavailable = count("postern.logins", "protocol", "pop3", "result", "unavailable");
        double failures = count("postern.logins", "protocol", "pop3", "result", "failure");
        double tls = count("postern.backend.errors", "backend", user, "reason", "tls");
        try (Conversation c = pop3s()) {
          assertThat(login(c, user, PW)).as(user).isEqualTo(TEMP_FAILURE
              + "Service temporarily unavailable, try again later.");
          assertUsable(c);
        }
        assertThat(count("postern.logins", "protocol", "pop3", "result", "unavailable")
            - unavailable).as(user).isEqualTo(1.0);
        assertThat(count("postern.logins", "protocol", "pop3", "result", "failure")
            - failures).as(user).isZero();
        assertThat(count("postern.backend.errors", "backend", user, "reason", "tls") - tls)
            .as(user).isEqualTo(1.0);
        assertThat(logs.lines()).as(user).anyMatch(l -> l.contains("user=" + user)
            && l.contains("requires TLS: configure pop3: { tls: starttls }")
            && l.contains("backend '" + user + "'"));
      }
    } finally {
      logs.stop();
    }
    // Dovecot's CAPA says so before anything is sent; Courier's answer to USER, before PASS.
    assertThat(fakes.get("dovecottls").received()).containsExactly("CAPA");
    assertThat(fakes.get("couriertls").received()).containsExactly("CAPA", "USER couriertls");
    assertThat(fakes.get("couriersasl").received())
        .containsExactly("CAPA", "AUTH PLAIN " + saslPlain("couriersasl", PW));
  }

  @Test
  void aUserRefusedForAnotherReasonShouldStayAFailedLogin() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "nosuchuser", PW)).isEqualTo(AUTH_FAILED);
    }
  }

  /** The sum of a counter over every series matching the given tags. */
  private double count(String name, String... tags) {
    return postern.meters().registry().find(name).tags(tags).counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
  }

  @Test
  void stlsShouldUpgradeAskCapaAndLogInOverTls() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "stls", PW)).isEqualTo("+OK Logged in");
      c.send("STAT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK STAT");
    }
    assertThat(fakes.tlsLog("stls")).containsExactly("plain: STLS", "tls: CAPA", "tls: USER stls",
        "tls: PASS secret", "tls: STAT");
  }

  @Test
  void aRefusedStlsOrBytesAfterItsReplyShouldFailWithoutUserOrPass() throws Exception {
    for (String user : List.of("stlserr", "stlsinject", "stlswrongname")) {
      try (Conversation c = pop3s()) {
        assertThat(login(c, user, PW)).as(user).startsWith(TEMP_FAILURE);
        assertThat(c.available(100)).as(user).isEmpty();
        assertUsable(c);
      }
      assertThat(fakes.tlsLog(user)).as(user).containsExactly("plain: STLS");
    }
  }

  @Test
  void implicitTlsShouldVerifyTheBackendsName() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "implicit", PW)).isEqualTo("+OK Logged in as implicit");
    }
    assertTemporaryFailure("wrongname");
    assertThat(fakes.get("wrongname").received()).isEmpty();
    try (Conversation c = pop3s()) {
      assertThat(login(c, "noverify", PW)).isEqualTo("+OK Logged in as noverify");
    }
  }

  @Test
  void plaintextOnAnImplicitTlsPortShouldNeverBeParsedAsAGreeting() throws Exception {
    assertTemporaryFailure("plaintls");
    assertThat(fakes.hangUp("plaintls").await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(fakes.wire("plaintls")).doesNotContain("USER").doesNotContain("CAPA")
        .doesNotContain("PASS");
  }

  @Test
  void destuserAndPassShouldReplaceWhatTheBackendReceives() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "front", "front-pw")).isEqualTo("+OK Logged in as back-user");
    }
    assertThat(fakes.get("rewrite").received())
        .containsExactly("CAPA", "USER back-user", "PASS master-secret");
  }

  @Test
  void nologinShouldGiveItsReasonOnlyAfterTheRightPassword() throws Exception {
    try (Conversation c = pop3s()) {
      assertThat(login(c, "lockeduser", "wrong")).isEqualTo(AUTH_FAILED);
      assertThat(login(c, "lockeduser", PW)).isEqualTo("-ERR [SYS/PERM] Closed-for-maintenance");
      assertUsable(c);
    }
    assertThat(fakes.get("locked").connections()).isZero();
  }

  // ---------------------------------------------------------------- helpers

  private Conversation pop3s() throws IOException {
    Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls());
    c.expect("+OK");
    return c;
  }

  /** USER and PASS in one write; returns the reply to PASS (Postern answers USER itself). */
  private static String login(Conversation c, String user, String password) throws IOException {
    c.send("USER " + user + "\r\nPASS " + password + "\r\n");
    assertThat(c.readLine()).isEqualTo("+OK");
    return c.readLine();
  }

  private long assertTemporaryFailure(String user) throws Exception {
    try (Conversation c = pop3s()) {
      long start = System.nanoTime();
      String reply = login(c, user, PW);
      long ms = millisSince(start);
      assertThat(reply).as(user).startsWith(TEMP_FAILURE);
      assertUsable(c);
      return ms;
    }
  }

  private static void assertUsable(Conversation c) throws IOException {
    assertThat(login(c, "good", PW)).as("next login on the same connection")
        .isEqualTo("+OK Logged in as good");
  }

  private void plainBackend(String name, FakeBackend.Script script, String password)
      throws IOException {
    FakeBackend fake = FakeBackend.start(script, localhostTls);
    fakes.add(name, fake);
    builder.backend(name, "127.0.0.1", 1, TlsMode.NONE, fake.port(), TlsMode.NONE, true, null)
        .passwdLine(passwdLine(name, password, "backend=" + name));
  }

  private void implicit(String name, TestTls cert, boolean verify, Path ca) throws IOException {
    FakeBackend fake = FakeBackend.startImplicitTls(login("USER\r\n", name, PW), cert);
    fakes.add(name, fake);
    builder.backend(name, "localhost", 1, TlsMode.NONE, fake.port(), TlsMode.IMPLICIT, verify, ca)
        .passwdLine(passwdLine(name, PW, "backend=" + name));
  }

  private static FakeBackend.Script login(String capa, String user, String password) {
    return BackendScripts.pop3(capa, user, password, BackendScripts.pop3Commands());
  }

  /**
   * A backend that wants TLS first: lists {@code capa}; answers USER, AUTH and PASS with
   * {@code refusal}, STLS with an error (the test backend has no TLS on this port).
   */
  private static FakeBackend.Script wantsTls(String capa, String refusal) {
    return c -> {
      c.send("+OK ready\r\n");
      while (true) {
        String line = c.readLine();
        c.send(line.equals("CAPA") ? "+OK\r\n" + capa + ".\r\n"
            : line.startsWith("USER ") || line.startsWith("PASS ") || line.startsWith("AUTH ")
            ? refusal + "\r\n" : "-ERR Unknown command\r\n");
      }
    };
  }

  /** Offers USER; answers PASS with {@code reply}. */
  private static FakeBackend.Script refuses(String reply) {
    return c -> {
      c.send("+OK ready\r\n");
      while (true) {
        String line = c.readLine();
        c.send(line.equals("CAPA") ? "+OK\r\nUSER\r\n.\r\n"
            : line.startsWith("PASS ") ? reply + "\r\n" : "+OK\r\n");
      }
    };
  }

  /**
   * A POP3 backend configured for STLS: answers STLS with {@code stlsReply} in one write and
   * upgrades if it starts with +OK; then a correct server. Logs each line with its TLS state.
   */
  private void startTls(String name, String stlsReply, TestTls cert, Path ca) throws IOException {
    List<String> log = fakes.tlsLog(name);
    FakeBackend.Script script = c -> untilHangUp(conv -> {
      conv.send("+OK ready\r\n");
      while (true) {
        String line = conv.readLine();
        log.add((conv.isTls() ? "tls: " : "plain: ") + line);
        if (line.equals("STLS")) {
          conv.send(stlsReply);
          if (stlsReply.startsWith("+OK")) {
            conv.startTls(false);
          }
        } else if (line.equals("CAPA")) {
          conv.send("+OK\r\nUSER\r\n.\r\n");
        } else if (line.startsWith("PASS ")) {
          conv.send("+OK Logged in\r\n");
        } else {
          conv.send("+OK " + line.split(" ")[0] + "\r\n");
        }
      }
    }, c);
    FakeBackend fake = FakeBackend.start(script, cert);
    fakes.add(name, fake);
    builder.backend(name, "localhost", 1, TlsMode.NONE, fake.port(), TlsMode.STARTTLS, true, ca)
        .passwdLine(passwdLine(name, PW, "backend=" + name));
  }
}
