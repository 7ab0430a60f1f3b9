package io.postern.backend;

import static io.postern.backend.BackendFaults.millisSince;
import static io.postern.backend.BackendFaults.silent;
import static io.postern.backend.BackendFaults.untilHangUp;
import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsMode;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * How Postern logs in to IMAP backends, and what a client on {@code imaps} sees for every
 * backend fault (DESIGN.md §5; STL-20..26, FLT-01..06). One Postern serves the whole class: each
 * scenario is a user whose passwd-file record routes it ({@code backend=NAME}) to its own fake
 * backend. POP3: {@link BackendLoginPop3Test}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackendLoginTest {

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(1);
  private static final String PW = "secret";
  private static final String CAPS = "IMAP4rev1 LITERAL+ ID";
  private static final String LOGGED_IN = "OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in";
  private static final String UNAVAILABLE = "NO [UNAVAILABLE] ";
  private static final String AUTH_FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed.";
  /** A password that needs both escapes of a quoted string, and spaces. */
  private static final String SPECIAL_PW = "p\"a\\ss w\"rd";
  private static final String UTF8_USER = "jörg";
  private static final String UTF8_PW = "pässwort";

  @TempDir
  static Path dir;

  private final TestTls localhostTls = TestTls.shared("localhost");
  private TestTls otherTls;
  private final FakeBackends fakes = new FakeBackends();
  private FakeBackend attacker;
  private PosternFixture.Builder builder;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    otherTls = TestTls.forHost("other.example");
    builder = PosternFixture.builder(dir).maxAttempts(20)
        .backendTimeouts(CONNECT_TIMEOUT, LOGIN_TIMEOUT)
        .user("good", PW);
    FakeBackend good = FakeBackend.start(login(CAPS, "good", PW), localhostTls);
    fakes.add("default", good);
    builder.backend("default", "127.0.0.1", good.port(), TlsMode.NONE, 1, TlsMode.NONE, true, null);

    // Login forms and capabilities.
    plainBackend("quoted", login("IMAP4rev1", "quoted", SPECIAL_PW), SPECIAL_PW);
    plainBackend("literal", literalLogin(), UTF8_PW);
    builder.passwdLine(passwdLine(UTF8_USER, UTF8_PW, "backend=literal"));
    plainBackend("literalplus", literalPlusLogin(), UTF8_PW);
    plainBackend("saslir", login("IMAP4rev1 AUTH=PLAIN SASL-IR", "saslir", PW), PW);
    plainBackend("authplain", login("IMAP4rev1 AUTH=PLAIN", "authplain", PW), PW);
    plainBackend("idyes", login("IMAP4rev1 ID", "idyes", PW), PW);
    plainBackend("idno", login("IMAP4rev1", "idno", PW), PW);
    plainBackend("capsasked", capabilitiesAsked(), PW);
    plainBackend("capsuntagged", capabilitiesUntagged(), PW);
    plainBackend("leftover", bytesAfterOk(), PW);
    plainBackend("alertok", alertInOk(), PW);

    // Faults before and during login.
    builder.backend("closedport", "127.0.0.1", Ports.closed(), TlsMode.NONE, 1, TlsMode.NONE, true,
        null).passwdLine(passwdLine("closedport", PW, "backend=closedport"));
    plainBackend("silent", silent(fakes.hangUp("silent")), PW);
    plainBackend("preauth", fakes.greets("preauth", "* PREAUTH [CAPABILITY IMAP4rev1] Logged in\r\n"), PW);
    add("preauthtls", FakeBackend.start(fakes.greets("preauthtls",
        "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] Logged in\r\n"), localhostTls),
        "localhost", TlsMode.STARTTLS, true, localhostTls.certPath());
    plainBackend("bye", fakes.greets("bye", "* BYE [UNAVAILABLE] Backend going down\r\n"), PW);
    plainBackend("popgreeting", fakes.greets("popgreeting", "+OK POP3 ready\r\n"), PW);
    plainBackend("garbage", fakes.greets("garbage", "GARBAGE".repeat(1500)), PW);
    plainBackend("hugegarbage", fakes.greets("hugegarbage", "GARBAGE".repeat(15000)), PW);
    plainBackend("closes", c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      c.readLine();
      c.close();
    }, PW);
    plainBackend("byeatlogin", c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      c.readLine();
      c.send("* BYE BACKEND-BYE Internal error\r\n");
      c.close();
    }, PW);
    add("implicitstall", FakeBackend.start(silent(fakes.hangUp("implicitstall")), localhostTls),
        "localhost", TlsMode.IMPLICIT, true, localhostTls.certPath());

    // Refusals.
    plainBackend("rejects", login("IMAP4rev1", "rejects", "another-password"), PW);
    plainBackend("unavailable", refuses("NO [UNAVAILABLE] Backend maintenance"), PW);
    plainBackend("inuse", refuses("NO [INUSE] Mailbox locked by another session"), PW);
    plainBackend("badreply", refuses("BAD Command unknown"), PW);
    attacker = FakeBackend.start(login(CAPS, "referral", PW), localhostTls);
    plainBackend("referral", refuses("NO [REFERRAL imap://referral@127.0.0.1:" + attacker.port()
        + "/] Try elsewhere"), PW);

    // STARTTLS to the backend.
    startTls("starttls", "IMAP4rev1 STARTTLS LOGINDISABLED", "S1 OK Begin TLS\r\n",
        localhostTls, localhostTls.certPath());
    startTls("nostarttls", "IMAP4rev1 AUTH=PLAIN", "S1 OK Begin TLS\r\n", localhostTls,
        localhostTls.certPath());
    startTls("starttlsno", null, "S1 NO TLS not available\r\n", localhostTls,
        localhostTls.certPath());
    startTls("starttlsbad", null, "S1 BAD Unknown command\r\n", localhostTls,
        localhostTls.certPath());
    startTls("starttlsplus", null, "+ go ahead\r\n", localhostTls, localhostTls.certPath());
    startTls("inject", "IMAP4rev1 STARTTLS",
        "S1 OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", localhostTls,
        localhostTls.certPath());
    startTls("injectbye", "IMAP4rev1 STARTTLS", "S1 OK Begin TLS\r\n* BYE injected\r\n",
        localhostTls, localhostTls.certPath());
    startTls("alertbefore", "IMAP4rev1 STARTTLS",
        "* OK [ALERT] INJECTED-ALERT\r\n* 3 EXISTS\r\nS1 OK Begin TLS\r\n", localhostTls,
        localhostTls.certPath());
    startTls("starttlsstall", "IMAP4rev1 STARTTLS", "S1 OK Go ahead (but no TLS follows)\r\n",
        localhostTls, localhostTls.certPath());
    startTls("starttlswrongname", "IMAP4rev1 STARTTLS", "S1 OK Begin TLS\r\n", otherTls,
        otherTls.certPath());

    // Implicit TLS to the backend.
    add("implicit", FakeBackend.startImplicitTls(login(CAPS, "implicit", PW), localhostTls),
        "localhost", TlsMode.IMPLICIT, true, localhostTls.certPath());
    add("wrongname", FakeBackend.startImplicitTls(login(CAPS, "wrongname", PW), otherTls),
        "localhost", TlsMode.IMPLICIT, true, otherTls.certPath());
    add("untrusted", FakeBackend.startImplicitTls(login(CAPS, "untrusted", PW), localhostTls),
        "localhost", TlsMode.IMPLICIT, true, otherTls.certPath());
    add("noverify", FakeBackend.startImplicitTls(login(CAPS, "noverify", PW), otherTls),
        "localhost", TlsMode.IMPLICIT, false, null);
    add("plaintls", FakeBackend.start(fakes.greets("plaintls", "* OK fake\r\n"), localhostTls),
        "localhost", TlsMode.IMPLICIT, true, localhostTls.certPath());

    // Routing by passwd-file extra fields.
    plainBackend("second", login(CAPS, "routed", PW), PW);
    builder.passwdLine(passwdLine("routed", PW, "backend=second"));
    FakeBackend onLocalhost = FakeBackend.start(login(CAPS, "hostoverride", PW), localhostTls);
    FakeBackend onOther = FakeBackend.start(login(CAPS, "hostdefault", PW), localhostTls,
        InetAddress.getByName("127.0.0.2"), onLocalhost.port());
    fakes.add("hostlocalhost", onLocalhost);
    fakes.add("hostroute", onOther);
    builder.backend("hostroute", "127.0.0.2", onOther.port(), TlsMode.NONE, 1, TlsMode.NONE, true,
            null)
        .passwdLine(passwdLine("hostdefault", PW, "backend=hostroute"))
        .passwdLine(passwdLine("hostoverride", PW, "backend=hostroute host=localhost"));
    plainBackend("rewrite", login(CAPS, "back-user", "master-secret"), "front-pw");
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
    if (attacker != null) {
      attacker.close();
    }
    otherTls.close();
  }

  // ---------------------------------------------------------------- login forms

  @Test
  void plainAsciiCredentialsShouldBeSentAsQuotedStringsWithPosternsOwnTag() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN good secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
      c.send("t2 NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("t2 OK NOOP completed");
    }
    assertThat(fakes.get("default").received()).contains("L1 LOGIN \"good\" \"secret\"")
        .noneMatch(line -> line.startsWith("t1 "));
  }

  @Test
  void quotesAndBackslashesInThePasswordShouldBeEscaped() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN quoted " + quote(SPECIAL_PW) + "\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    assertThat(fakes.get("quoted").received())
        .containsExactly("L1 LOGIN \"quoted\" \"p\\\"a\\\\ss w\\\"rd\"");
  }

  @Test
  void utf8CredentialsShouldBeSentAsSynchronisingLiterals() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 AUTHENTICATE PLAIN " + saslPlain(UTF8_USER, UTF8_PW) + "\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    // literalLogin() checks the bytes and that none came before its "+" continuation.
    assertThat(fakes.get("literal").received()).containsExactly("L1 LOGIN {5}", " {9}", "");
    assertThat(fakes.get("literal").failures()).isEmpty();
  }

  /** What announcing the backends' UTF8=ACCEPT before login promises (RFC 6855 §5). */
  @Test
  void utf8InQuotedLoginStringsShouldBeTakenAndSentAsLiterals() throws Exception {
    int before = fakes.get("literal").received().size();
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN \"" + UTF8_USER + "\" \"" + UTF8_PW + "\"\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    List<String> received = fakes.get("literal").received();
    assertThat(received.subList(before, received.size()))
        .containsExactly("L1 LOGIN {5}", " {9}", "");
    assertThat(fakes.get("literal").failures()).isEmpty();
  }

  @Test
  void utf8PasswordShouldBeANonSynchronisingLiteralWhenTheBackendOffersLiteralPlus()
      throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 AUTHENTICATE PLAIN " + saslPlain("literalplus", UTF8_PW) + "\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    assertThat(fakes.get("literalplus").received())
        .containsExactly("L1 LOGIN \"literalplus\" {9+}", "");
    assertThat(fakes.get("literalplus").failures()).isEmpty();
  }

  @Test
  void authenticatePlainWithInitialResponseShouldBeUsedWhenOffered() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN saslir secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN authplain secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    assertThat(fakes.get("saslir").received())
        .startsWith("L1 AUTHENTICATE PLAIN " + saslPlain("saslir", PW))
        .noneMatch(line -> line.contains("LOGIN"));
    // AUTH=PLAIN without SASL-IR: LOGIN, never a continuation-based AUTHENTICATE.
    assertThat(fakes.get("authplain").received()).containsExactly(
        "L1 LOGIN \"authplain\" \"secret\"");
  }

  @Test
  void theClientsIdShouldBeForwardedOnlyToBackendsOfferingId() throws Exception {
    for (String user : List.of("idyes", "idno")) {
      try (Conversation c = imaps()) {
        c.send("t0 LOGIN " + user + " secret\r\n");
        assertThat(c.readLine()).isEqualTo("t0 " + LOGGED_IN);
      }
      try (Conversation c = imaps()) {
        c.send("t1 ID (\"name\" \"Tester\" \"version\" \"1.0\")\r\n");
        assertThat(c.readUntil("t1 ")).containsExactly("* ID (\"name\" \"Postern\")",
            "t1 OK ID completed.");
        c.send("t2 LOGIN " + user + " secret\r\n");
        assertThat(c.readLine()).isEqualTo("t2 " + LOGGED_IN);
      }
    }
    assertThat(fakes.get("idyes").received()).containsExactly(
        "L1 LOGIN \"idyes\" \"secret\"",
        "I1 ID (\"name\" \"Tester\" \"version\" \"1.0\")", "L1 LOGIN \"idyes\" \"secret\"");
    assertThat(fakes.get("idno").received()).containsExactly(
        "L1 LOGIN \"idno\" \"secret\"", "L1 LOGIN \"idno\" \"secret\"");
  }

  // ---------------------------------------------------------------- the client's OK

  @Test
  void missingCapabilitiesShouldBeAskedForAndPutInTheClientsOk() throws Exception {
    try (Conversation c = imaps()) {
      c.send("x9 LOGIN capsasked secret\r\n");
      String ok = c.readLine();
      assertThat(ok).startsWith("x9 OK [CAPABILITY ").endsWith("] Logged in");
      assertThat(ok).isEqualTo("x9 OK [CAPABILITY IMAP4rev1 IDLE X-AFTER-LOGIN] Logged in");
      c.send("x10 NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("x10 OK NOOP completed");
    }
    assertThat(fakes.get("capsasked").received()).containsExactly("C1 CAPABILITY",
        "L1 LOGIN \"capsasked\" \"secret\"", "C2 CAPABILITY", "x10 NOOP");
    assertThat(fakes.get("capsasked").failures()).isEmpty();
  }

  @Test
  void anUntaggedCapabilityBeforeTheOkShouldBeUsed() throws Exception {
    try (Conversation c = imaps()) {
      c.send("x1 LOGIN capsuntagged secret\r\n");
      assertThat(c.readLine())
          .isEqualTo("x1 OK [CAPABILITY IMAP4rev1 X-UNTAGGED] Logged in");
      c.send("x2 NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("x2 OK NOOP completed");
    }
    assertThat(fakes.get("capsuntagged").received()).containsExactly(
        "L1 LOGIN \"capsuntagged\" \"secret\"", "x2 NOOP");
  }

  @Test
  void bytesAfterTheBackendsOkShouldFollowTheClientsOk() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN leftover secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in");
      assertThat(c.readLine()).isEqualTo("* 1 EXISTS");
      assertThat(c.readLine()).isEqualTo("* 1 RECENT");
      c.send("t2 NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("t2 OK NOOP completed");
    }
  }

  @Test
  void aBackendOkWithAnotherCodeShouldKeepItAndGetCapabilitiesUntaggedFirst() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN alertok secret\r\n");
      assertThat(c.readLine()).isEqualTo("* CAPABILITY IMAP4rev1 IDLE");
      assertThat(c.readLine()).isEqualTo("t1 OK [ALERT] Password expires soon");
      c.send("t2 NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("t2 OK NOOP completed");
    }
    assertThat(fakes.get("alertok").failures()).isEmpty();
  }

  // ---------------------------------------------------------------- faults

  @Test
  void aClosedBackendPortShouldBeUnavailableWithinTheConnectTimeout() throws Exception {
    long ms = assertTemporaryFailure("closedport");
    assertThat(ms).isLessThan(CONNECT_TIMEOUT.toMillis());
  }

  @Test
  void aBackendThatNeverGreetsShouldBeUnavailableAfterTheLoginTimeout() throws Exception {
    long ms = assertTemporaryFailure("silent");
    assertThat(ms).isBetween(LOGIN_TIMEOUT.toMillis() - 100, LOGIN_TIMEOUT.toMillis() + 1500);
    assertThat(fakes.hangUp("silent").await(5, TimeUnit.SECONDS))
        .as("Postern closed the backend connection").isTrue();
  }

  @Test
  void preauthGreetingsShouldFailWithoutSendingAnything() throws Exception {
    for (String user : List.of("preauth", "preauthtls")) {
      assertTemporaryFailure(user);
      assertThat(fakes.hangUp(user).await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(fakes.wire(user)).as(user).isEmpty();
    }
  }

  @Test
  void byeOrPop3GreetingsShouldFailWithoutSendingAnything() throws Exception {
    for (String user : List.of("bye", "popgreeting")) {
      assertTemporaryFailure(user);
      assertThat(fakes.hangUp(user).await(5, TimeUnit.SECONDS)).isTrue();
      assertThat(fakes.wire(user)).as(user).isEmpty();
    }
  }

  @Test
  void tenKilobytesOfGarbageShouldFailAndNeverReachTheClient() throws Exception {
    long ms = assertTemporaryFailure("garbage");
    assertThat(ms).isLessThan(LOGIN_TIMEOUT.toMillis() + 1500);
    assertThat(fakes.wire("garbage")).isEmpty();
  }

  @Test
  void garbageOverTheLineLimitShouldFailBeforeTheTimeout() throws Exception {
    long ms = assertTemporaryFailure("hugegarbage");
    assertThat(ms).isLessThan(LOGIN_TIMEOUT.toMillis());
    assertThat(fakes.wire("hugegarbage")).isEmpty();
  }

  @Test
  void aBackendClosingDuringLoginShouldBeUnavailable() throws Exception {
    assertTemporaryFailure("closes");
    // Dovecot's proxy drops a BYE at login too: the client gets Postern's reply only.
    assertTemporaryFailure("byeatlogin");
    assertThat(fakes.get("byeatlogin").received()).containsExactly(
        "L1 LOGIN \"byeatlogin\" \"secret\"");
  }

  @Test
  void commandsPipelinedAfterAFailedLoginShouldBeAnsweredByPostern() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN closedport secret\r\nt2 NOOP\r\n");
      assertThat(c.readLine()).startsWith("t1 " + UNAVAILABLE);
      assertThat(c.readLine()).isEqualTo("t2 OK NOOP completed.");
      assertUsable(c);
    }
  }

  @Test
  void aBackendThatNeverAnswersTheTlsUpgradeShouldTimeOut() throws Exception {
    long ms = assertTemporaryFailure("starttlsstall");
    assertThat(ms).isBetween(LOGIN_TIMEOUT.toMillis() - 100, LOGIN_TIMEOUT.toMillis() + 1500);
    assertThat(fakes.tlsLog("starttlsstall")).containsExactly("plain: S1 STARTTLS");
  }

  @Test
  void anImplicitTlsBackendThatNeverHandshakesShouldTimeOutLikeASilentOne() throws Exception {
    long ms = assertTemporaryFailure("implicitstall");
    assertThat(ms).isLessThan(CONNECT_TIMEOUT.toMillis() + LOGIN_TIMEOUT.toMillis() + 1500);
    assertThat(fakes.hangUp("implicitstall").await(5, TimeUnit.SECONDS)).isTrue();
  }

  // ---------------------------------------------------------------- refusals

  @Test
  void aBackendRejectingTheCredentialsShouldGiveAuthenticationFailed() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN rejects secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + AUTH_FAILED);
      assertUsable(c);
    }
    assertThat(fakes.get("rejects").connections()).isEqualTo(1);
  }

  @Test
  void backendUnavailableAndInUseShouldBePassedOnWithTheirCodes() throws Exception {
    assertTemporaryFailure("unavailable");
    assertTemporaryFailure("badreply");
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN inuse secret\r\n");
      assertThat(c.readLine()).startsWith("t1 NO [INUSE] ").doesNotContain("another session");
      assertUsable(c);
    }
  }

  @Test
  void aReferralShouldNotBeFollowed() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN referral secret\r\n");
      assertThat(c.readLine()).startsWith("t1 NO ").doesNotContain("REFERRAL")
          .doesNotContain("imap://");
      assertUsable(c);
    }
    assertThat(attacker.connections()).isZero();
    assertThat(fakes.get("referral").connections()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- STARTTLS to the backend

  @Test
  void startTlsShouldUpgradeReaskCapabilitiesAndLogInOverTls() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN starttls secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in");
      c.send("t2 NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("t2 OK NOOP completed");
    }
    // The capabilities over TLS offer AUTH=PLAIN SASL-IR; those before it LOGINDISABLED.
    assertThat(fakes.tlsLog("starttls")).containsExactly("plain: S1 STARTTLS",
        "tls: C1 CAPABILITY", "tls: L1 AUTHENTICATE PLAIN " + saslPlain("starttls", PW),
        "tls: t2 NOOP");
  }

  @Test
  void startTlsMissingFromTheCapabilitiesShouldFailWithoutLogin() throws Exception {
    assertTemporaryFailure("nostarttls");
    assertThat(fakes.tlsLog("nostarttls")).isEmpty();
  }

  @Test
  void aRefusedStartTlsShouldFailWithoutLogin() throws Exception {
    for (String user : List.of("starttlsno", "starttlsbad", "starttlsplus")) {
      assertTemporaryFailure(user);
      assertThat(fakes.tlsLog(user)).as(user).containsExactly("plain: S1 STARTTLS");
    }
  }

  @Test
  void bytesInjectedAfterTheStartTlsReplyShouldAbortTheLogin() throws Exception {
    for (String user : List.of("inject", "injectbye")) {
      try (Conversation c = imaps()) {
        c.send("t1 LOGIN " + user + " secret\r\n");
        assertThat(c.readLine()).as(user).startsWith("t1 " + UNAVAILABLE);
        assertThat(c.available(200)).as("injected bytes reaching the client").isEmpty();
        assertUsable(c);
      }
      assertThat(fakes.tlsLog(user)).as(user).containsExactly("plain: S1 STARTTLS");
    }
  }

  @Test
  void untaggedLinesBeforeTheStartTlsReplyShouldNeverReachTheClient() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN alertbefore secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in");
      c.send("t2 NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("t2 OK NOOP completed");
    }
    assertThat(fakes.tlsLog("alertbefore")).startsWith("plain: S1 STARTTLS", "tls: C1 CAPABILITY");
  }

  @Test
  void aStartTlsCertificateForAnotherNameShouldFailWithoutLogin() throws Exception {
    assertTemporaryFailure("starttlswrongname");
    assertThat(fakes.tlsLog("starttlswrongname")).containsExactly("plain: S1 STARTTLS");
  }

  // ---------------------------------------------------------------- implicit TLS to the backend

  @Test
  void implicitTlsWithAVerifiedCertificateShouldLogIn() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN implicit secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    assertThat(fakes.get("implicit").received()).contains("L1 LOGIN \"implicit\" \"secret\"");
  }

  @Test
  void aCertificateForAnotherNameOrAnUntrustedOneShouldBeRefused() throws Exception {
    for (String user : List.of("wrongname", "untrusted")) {
      assertTemporaryFailure(user);
      assertThat(fakes.get(user).received()).as(user).isEmpty();
    }
  }

  @Test
  void withoutVerificationAnyCertificateShouldBeAccepted() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN noverify secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
  }

  @Test
  void plaintextOnAnImplicitTlsPortShouldNeverBeParsedAsAGreeting() throws Exception {
    assertTemporaryFailure("plaintls");
    assertThat(fakes.hangUp("plaintls").await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(fakes.wire("plaintls")).doesNotContain("LOGIN").doesNotContain("CAPABILITY")
        .doesNotContain("plaintls");
  }

  // ---------------------------------------------------------------- routing

  @Test
  void backendFieldShouldRouteToTheNamedBackend() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN routed secret\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    assertThat(fakes.get("second").received()).containsExactly("L1 LOGIN \"routed\" \"secret\"");
    assertThat(fakes.get("default").received()).noneMatch(line -> line.contains("routed"));
  }

  @Test
  void hostFieldShouldReplaceTheBackendsHost() throws Exception {
    for (String user : List.of("hostdefault", "hostoverride")) {
      try (Conversation c = imaps()) {
        c.send("t1 LOGIN " + user + " secret\r\n");
        assertThat(c.readLine()).as(user).isEqualTo("t1 " + LOGGED_IN);
      }
    }
    assertThat(fakes.get("hostroute").received())
        .containsExactly("L1 LOGIN \"hostdefault\" \"secret\"");
    assertThat(fakes.get("hostlocalhost").received())
        .containsExactly("L1 LOGIN \"hostoverride\" \"secret\"");
  }

  @Test
  void destuserAndPassShouldReplaceWhatTheBackendReceives() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN front front-pw\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + LOGGED_IN);
    }
    assertThat(fakes.get("rewrite").received())
        .containsExactly("L1 LOGIN \"back-user\" \"master-secret\"");
  }

  @Test
  void nologinShouldGiveItsReasonOnlyAfterTheRightPassword() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN lockeduser wrong\r\n");
      assertThat(c.readLine()).isEqualTo("t1 " + AUTH_FAILED);
      c.send("t2 LOGIN lockeduser secret\r\n");
      assertThat(c.readLine()).isEqualTo("t2 NO [CONTACTADMIN] Closed-for-maintenance");
      assertUsable(c);
    }
    assertThat(fakes.get("locked").connections()).isZero();
  }

  // ---------------------------------------------------------------- helpers

  private Conversation imaps() throws IOException {
    Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls());
    c.expect("* OK");
    return c;
  }

  /** Logs in as {@code user}: expects a temporary failure, then a working second attempt. */
  private long assertTemporaryFailure(String user) throws Exception {
    try (Conversation c = imaps()) {
      long start = System.nanoTime();
      c.send("t1 LOGIN " + user + " secret\r\n");
      String reply = c.readLine();
      long ms = millisSince(start);
      assertThat(reply).as(user).startsWith("t1 " + UNAVAILABLE);
      assertUsable(c);
      return ms;
    }
  }

  /** The connection takes another login after a failure (the next line is its reply). */
  private void assertUsable(Conversation c) throws IOException {
    c.send("r1 LOGIN good secret\r\n");
    assertThat(c.readLine()).as("next login on the same connection").isEqualTo("r1 " + LOGGED_IN);
  }

  private FakeBackend plainBackend(String name, FakeBackend.Script script, String password)
      throws IOException {
    FakeBackend fake = FakeBackend.start(script, localhostTls);
    fakes.add(name, fake);
    builder.backend(name, "127.0.0.1", fake.port(), TlsMode.NONE, 1, TlsMode.NONE, true, null)
        .passwdLine(passwdLine(name, password, "backend=" + name));
    return fake;
  }

  private void add(String name, FakeBackend fake, String host, TlsMode tls, boolean verify,
      Path ca) {
    fakes.add(name, fake);
    builder.backend(name, host, fake.port(), tls, 1, TlsMode.NONE, verify, ca)
        .passwdLine(passwdLine(name, PW, "backend=" + name));
  }

  /** A correct backend (see {@link BackendScripts#imap}) with commands after login. */
  private static FakeBackend.Script login(String caps, String user, String password) {
    return BackendScripts.imap(caps, user, password, BackendScripts.imapCommands(user));
  }

  /** Answers LOGIN with {@code reply}; anything else with BAD. */
  private static FakeBackend.Script refuses(String reply) {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      while (true) {
        String[] words = c.readLine().split(" ", 3);
        boolean login = words.length > 1 && words[1].equalsIgnoreCase("LOGIN");
        c.send(words[0] + " " + (login ? reply : "BAD unexpected") + "\r\n");
      }
    };
  }

  /** Expects LOGIN with two synchronising literals, and no literal byte before its "+". */
  private static FakeBackend.Script literalLogin() {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      expectLine(c, "L1 LOGIN {5}");
      literal(c, UTF8_USER, true);
      expectLine(c, " {9}");
      literal(c, UTF8_PW, true);
      expectLine(c, "");
      c.send("L1 " + LOGGED_IN + "\r\n");
      BackendScripts.imapCommands(UTF8_USER).run(c);
    };
  }

  private static FakeBackend.Script literalPlusLogin() {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n");
      expectLine(c, "L1 LOGIN \"literalplus\" {9+}");
      literal(c, UTF8_PW, false);
      expectLine(c, "");
      c.send("L1 " + LOGGED_IN + "\r\n");
      BackendScripts.imapCommands("literalplus").run(c);
    };
  }

  private static void literal(Conversation c, String expected, boolean synchronising)
      throws IOException {
    byte[] want = expected.getBytes(StandardCharsets.UTF_8);
    if (synchronising) {
      byte[] early = c.available(200);
      if (early.length > 0) {
        throw new AssertionError("literal bytes sent before the continuation: "
            + new String(early, StandardCharsets.ISO_8859_1));
      }
      c.send("+ go ahead\r\n");
    }
    byte[] got = c.readBytes(want.length);
    if (!Arrays.equals(got, want)) {
      throw new AssertionError("literal " + new String(got, StandardCharsets.UTF_8));
    }
  }

  /** Greets without capabilities; answers LOGIN with a bare OK, so Postern must ask twice. */
  private static FakeBackend.Script capabilitiesAsked() {
    return c -> {
      c.send("* OK ready\r\n");
      expectLine(c, "C1 CAPABILITY");
      c.send("* CAPABILITY IMAP4rev1\r\nC1 OK done\r\n");
      expectLine(c, "L1 LOGIN \"capsasked\" \"secret\"");
      c.send("L1 OK Logged in\r\n");
      expectLine(c, "C2 CAPABILITY");
      c.send("* CAPABILITY IMAP4rev1 IDLE X-AFTER-LOGIN\r\nC2 OK done\r\n");
      BackendScripts.imapCommands("capsasked").run(c);
    };
  }

  private static FakeBackend.Script capabilitiesUntagged() {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      expectLine(c, "L1 LOGIN \"capsuntagged\" \"secret\"");
      c.send("* CAPABILITY IMAP4rev1 X-UNTAGGED\r\nL1 OK Logged in\r\n");
      BackendScripts.imapCommands("capsuntagged").run(c);
    };
  }

  /** A login OK with an ALERT code: the capabilities must come some other way. */
  private static FakeBackend.Script alertInOk() {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      expectLine(c, "L1 LOGIN \"alertok\" \"secret\"");
      c.send("L1 OK [ALERT] Password expires soon\r\n");
      expectLine(c, "C2 CAPABILITY");
      c.send("* CAPABILITY IMAP4rev1 IDLE\r\nC2 OK done\r\n");
      BackendScripts.imapCommands("alertok").run(c);
    };
  }

  private static FakeBackend.Script bytesAfterOk() {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      expectLine(c, "L1 LOGIN \"leftover\" \"secret\"");
      c.send("L1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n* 1 EXISTS\r\n* 1 RECENT\r\n");
      BackendScripts.imapCommands("leftover").run(c);
    };
  }

  /**
   * A backend configured for STARTTLS: greets with {@code capsBeforeTls} (none if null), answers
   * STARTTLS with {@code startTlsReply} in one write and upgrades if it contains "S1 OK Begin
   * TLS" (another "S1 OK" and it never answers the handshake); over TLS
   * offers {@code AUTH=PLAIN SASL-IR}, accepts any login and answers NOOP. Logs each line with
   * its TLS state.
   */
  private void startTls(String name, String capsBeforeTls, String startTlsReply, TestTls cert,
      Path ca) throws IOException {
    List<String> log = fakes.tlsLog(name);
    FakeBackend.Script script = c -> untilHangUp(conv -> {
      conv.send(capsBeforeTls == null ? "* OK ready\r\n"
          : "* OK [CAPABILITY " + capsBeforeTls + "] ready\r\n");
      while (true) {
        String line = conv.readLine();
        log.add((conv.isTls() ? "tls: " : "plain: ") + line);
        String[] words = line.split(" ", 3);
        String command = words.length > 1 ? words[1].toUpperCase() : "";
        switch (command) {
          case "STARTTLS" -> {
            conv.send(startTlsReply);
            if (startTlsReply.contains("S1 OK Begin TLS")) {
              conv.startTls(false);
            } else if (startTlsReply.startsWith("S1 OK")) {
              BackendFaults.drain(conv, new ByteArrayOutputStream());
              return;
            }
          }
          case "CAPABILITY" -> conv.send("* CAPABILITY "
              + (conv.isTls() ? "IMAP4rev1 AUTH=PLAIN SASL-IR" : capsBeforeTls) + "\r\n"
              + words[0] + " OK done\r\n");
          case "LOGIN", "AUTHENTICATE" ->
              conv.send(words[0] + " OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n");
          case "NOOP" -> conv.send(words[0] + " OK NOOP completed\r\n");
          default -> conv.send(words[0] + " BAD unexpected\r\n");
        }
      }
    }, c);
    add(name, FakeBackend.start(script, cert), "localhost", TlsMode.STARTTLS, true, ca);
  }

  private static void expectLine(Conversation c, String expected) throws IOException {
    String line = c.readLine();
    if (!line.equals(expected)) {
      throw new AssertionError("expected '" + expected + "' but got '" + line + "'");
    }
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  static String saslPlain(String user, String password) {
    return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password)
        .getBytes(StandardCharsets.UTF_8));
  }
}
