package io.postern.backend;

import static io.postern.backend.BackendFaults.silent;
import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.postern.config.BackendConfig;
import io.postern.config.BackendConfig.Balance;
import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.BackendConfig.HealthCheck;
import io.postern.config.BackendConfig.Server;
import io.postern.config.TlsMode;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pools as a client sees them: a login whose server cannot be reached or will not serve anyone
 * moves on to the next server of the user's ring, once that server has the password it never
 * does, servers that fail their checks get no logins and get their users back when they return.
 * Each scenario is its own pool of fake backends; users are picked so that the failing server
 * comes first on their ring.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackendPoolTest {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration LOGIN_TIMEOUT = Duration.ofSeconds(6);
  private static final Duration PREAUTH_TIMEOUT = Duration.ofSeconds(4);
  private static final String PW = "secret";
  private static final HealthCheck NO_CHECKS = HealthCheck.OFF;
  private static final HealthCheck FAST_CHECKS =
      new HealthCheck(true, Duration.ofMillis(300), Duration.ofMillis(300), 2, 2);

  @TempDir
  static Path dir;

  private final TestTls localhostTls = TestTls.shared("localhost");
  private TestTls otherTls;
  private final List<FakeBackend> fakes = new ArrayList<>();
  private PosternFixture.Builder builder;
  private PosternFixture postern;
  private int flappyPort;
  private FakeBackend flappy;
  private FakeBackend rejects;
  private FakeBackend closesAtLogin;
  private FakeBackend afterRejects;
  private FakeBackend afterCloses;
  private FakeBackend slowLogin;
  private final java.util.concurrent.CountDownLatch loginAnswered =
      new java.util.concurrent.CountDownLatch(1);
  private final java.util.concurrent.CountDownLatch slowHungUp =
      new java.util.concurrent.CountDownLatch(1);

  @BeforeAll
  void start() throws Exception {
    otherTls = TestTls.forHost("other.example");
    builder = PosternFixture.builder(dir).maxAttempts(20)
        .backendTimeouts(CONNECT_TIMEOUT, LOGIN_TIMEOUT)
        .preauthTimeout(PREAUTH_TIMEOUT)
        .user("good", PW);
    builder.backend("default", "127.0.0.1", fake(answering("default")).port(), TlsMode.NONE, 1,
        TlsMode.NONE, true, null);

    // Failover causes, each: the failing server first on the user's ring, a good one second.
    pool("refused", NO_CHECKS, TlsMode.NONE, null,
        server("dead", Ports.closed()), server("good", fake(answering("refused-good")).port()));
    pool("nogreeting", NO_CHECKS, TlsMode.NONE, null,
        server("silent", fake(silent(new java.util.concurrent.CountDownLatch(1))).port()),
        server("good", fake(answering("nogreeting-good")).port()));
    pool("bye", NO_CHECKS, TlsMode.NONE, null,
        server("bye", fake(c -> c.send("* BYE [UNAVAILABLE] going down\r\n")).port()),
        server("good", fake(answering("bye-good")).port()));
    pool("tls", NO_CHECKS, TlsMode.IMPLICIT, localhostTls.certPath(),
        server("wrongname", fakeTls(answering("tls-wrongname"), otherTls).port()),
        server("good", fakeTls(answering("tls-good"), localhostTls).port()));

    // The backend answered the login itself: no second server is asked.
    rejects = fake(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      String tag = c.readLine().split(" ")[0];
      c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
      c.readLine();
    });
    afterRejects = fake(answering("rejects-good"));
    pool("rejects", NO_CHECKS, TlsMode.NONE, null, server("rejects", rejects.port()),
        server("good", afterRejects.port()));
    closesAtLogin = fake(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      c.readLine();
      c.close();
    });
    afterCloses = fake(answering("closes-good"));
    pool("closes", NO_CHECKS, TlsMode.NONE, null, server("closes", closesAtLogin.port()),
        server("good", afterCloses.port()));

    // Health checks.
    pool("alldown", FAST_CHECKS, TlsMode.NONE, null, server("one", Ports.closed()),
        server("two", Ports.closed()));
    flappy = fake(answering("checked-flappy"));
    flappyPort = flappy.port();
    pool("checked", FAST_CHECKS, TlsMode.NONE, null, server("flappy", flappyPort),
        server("steady", fake(answering("checked-steady")).port()));

    pool("badcert", FAST_CHECKS, TlsMode.IMPLICIT, localhostTls.certPath(),
        server("wrongname", fakeTls(answering("badcert-wrongname"), otherTls).port()),
        server("good", fakeTls(answering("badcert-good"), localhostTls).port()));

    // A client that leaves while its backend login is under way holds no place at the server.
    slowLogin = fake(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] slow ready\r\n");
      String tag = c.readLine().split(" ")[0];
      loginAnswered.await();
      try {
        c.send(tag + " OK [CAPABILITY IMAP4rev1] Logged in at slow\r\n");
        c.readLine();
      } finally {
        slowHungUp.countDown();
      }
    });
    pool("slow", NO_CHECKS, TlsMode.NONE, null, server("slow", slowLogin.port()),
        server("spare", Ports.closed()));

    // POP3 fails over the same way.
    FakeBackend pop3Good = fake(BackendScripts.pop3("USER\r\n", user("pop3", "dead"), PW,
        BackendScripts.pop3Commands()));
    builder.backend(new BackendConfig("pop3", List.of(server("dead", Ports.closed()),
            new Server("good", "127.0.0.1", 1, null, pop3Good.port())),
        new BackendConfig.Endpoint(143, TlsMode.NONE), new BackendConfig.Endpoint(110,
            TlsMode.NONE), true, null, Balance.USER_HASH, NO_CHECKS, ClientIp.NONE));
    builder.passwdLine(passwdLine(user("pop3", "dead"), PW, "backend=pop3"));

    // Least connections: a second user goes where the first is not.
    builder.backend(new BackendConfig("fewest", List.of(
            server("a", fake(holding("fewest-a")).port()),
            server("b", fake(holding("fewest-b")).port())),
        new BackendConfig.Endpoint(143, TlsMode.NONE), new BackendConfig.Endpoint(110,
            TlsMode.NONE), true, null, Balance.LEAST_CONNECTIONS, NO_CHECKS, ClientIp.NONE));
    builder.passwdLine(passwdLine("first", PW, "backend=fewest"))
        .passwdLine(passwdLine("second", PW, "backend=fewest"));

    postern = builder.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    for (FakeBackend fake : fakes) {
      fake.close();
    }
    otherTls.close();
  }

  @Test
  void aRefusedConnectionShouldMoveTheLoginToTheNextServer() throws Exception {
    assertLoggedInAt("refused", "dead", "refused-good");
  }

  @Test
  void aServerThatNeverGreetsShouldMoveTheLoginOnAfterTheConnectTimeout() throws Exception {
    assertLoggedInAt("nogreeting", "silent", "nogreeting-good");
  }

  @Test
  void aByeGreetingShouldMoveTheLoginToTheNextServer() throws Exception {
    assertLoggedInAt("bye", "bye", "bye-good");
  }

  @Test
  void aCertificateThatFailsVerificationShouldMoveTheLoginToTheNextServer() throws Exception {
    assertLoggedInAt("tls", "wrongname", "tls-good");
  }

  @Test
  void aWrongPasswordAtTheFirstServerShouldBeTheAnswerWithoutAskingAnother() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN " + user("rejects", "rejects") + " " + PW + "\r\n");
      assertThat(c.readLine()).startsWith("t1 NO [AUTHENTICATIONFAILED]");
    }
    assertThat(rejects.connections()).isEqualTo(1);
    assertThat(afterRejects.connections()).as("the second server").isZero();
    assertThat(failovers("rejects")).isZero();
  }

  @Test
  void aServerThatHangsUpAfterTheCredentialsShouldNotSendThemToAnother() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN " + user("closes", "closes") + " " + PW + "\r\n");
      assertThat(c.readLine()).startsWith("t1 NO [UNAVAILABLE]");
    }
    assertThat(closesAtLogin.connections()).isEqualTo(1);
    assertThat(afterCloses.connections()).as("the second server").isZero();
  }

  @Test
  void whenEveryServerIsDownLoginsShouldGetTheTemporaryFailureAtOnce() throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> up("alldown", "one") == 0
        && up("alldown", "two") == 0);
    try (Conversation c = imaps()) {
      long started = System.nanoTime();
      c.send("t1 LOGIN " + user("alldown", "one") + " " + PW + "\r\n");
      assertThat(c.readLine()).startsWith("t1 NO [UNAVAILABLE]");
      // No server is tried: the answer does not wait for any connect timeout.
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(CONNECT_TIMEOUT);
    }
  }

  @Test
  void aServerThatFailsItsChecksShouldGetNoLoginsAndItsUsersBackWhenItReturns()
      throws Exception {
    String user = user("checked", "flappy");
    await().atMost(Duration.ofSeconds(10)).until(() -> up("checked", "flappy") == 1);
    assertThat(loginReply("checked", user)).contains("checked-flappy");

    flappy.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> up("checked", "flappy") == 0);
    double failoversBefore = failovers("checked");
    assertThat(loginReply("checked", user)).contains("checked-steady");
    assertThat(failovers("checked")).as("a down server is not even tried")
        .isEqualTo(failoversBefore);

    flappy = fake(answering("checked-flappy"), InetAddress.getLoopbackAddress(), flappyPort);
    await().atMost(Duration.ofSeconds(10)).until(() -> up("checked", "flappy") == 1);
    assertThat(loginReply("checked", user)).contains("checked-flappy");
  }

  @Test
  void aServerWhoseCertificateFailsVerificationShouldBeDownNotUp() {
    // The same checks pass for the server with the right certificate.
    await().atMost(Duration.ofSeconds(10)).until(() -> up("badcert", "wrongname") == 0
        && checks("badcert", "good", "passed") > 2 && up("badcert", "good") == 1);
    assertThat(checks("badcert", "wrongname", "passed")).isZero();
  }

  @Test
  void aSessionEndedDuringItsBackendLoginShouldHoldNoPlaceAtTheServer() throws Exception {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN " + user("slow", "slow") + " " + PW + "\r\n");
      // The pre-login deadline ends the session while the backend still has the login.
      c.socket().setSoTimeout((int) PREAUTH_TIMEOUT.multipliedBy(3).toMillis());
      assertThat(c.readLine()).startsWith("* BYE");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
    // Now the backend says yes, to a session that has already ended.
    loginAnswered.countDown();
    assertThat(slowHungUp.await(10, java.util.concurrent.TimeUnit.SECONDS))
        .as("Postern hangs up on the backend").isTrue();
    // The session's end may be written just after the client saw the close: wait for it, then
    // the place must have been given back (a leaked one stays at 1 for good).
    await().atMost(Duration.ofSeconds(10)).until(() -> sessions("slow", "slow") == 0);
  }

  @Test
  void pop3LoginsShouldFailOverToo() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      c.expect("+OK");
      c.send("USER " + user("pop3", "dead") + "\r\nPASS " + PW + "\r\n");
      assertThat(c.readLine()).startsWith("+OK");
      assertThat(c.readLine()).isEqualTo("+OK Logged in as " + user("pop3", "dead"));
    }
    assertThat(failovers("pop3")).isEqualTo(1);
  }

  @Test
  void leastConnectionsShouldSendTheNextUserToTheServerWithFewerSessions() throws Exception {
    try (Conversation first = imaps(); Conversation second = imaps()) {
      first.send("t1 LOGIN first " + PW + "\r\n");
      String firstAt = first.readLine();
      second.send("t1 LOGIN second " + PW + "\r\n");
      String secondAt = second.readLine();
      assertThat(firstAt).startsWith("t1 OK");
      assertThat(secondAt).startsWith("t1 OK");
      assertThat(firstAt.contains("fewest-a")).isNotEqualTo(secondAt.contains("fewest-a"));
      assertThat(sessions("fewest", "a") + sessions("fewest", "b")).isEqualTo(2);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Logs in as the user whose ring starts at {@code failing}; expects the good server. */
  private void assertLoggedInAt(String pool, String failing, String goodName) throws Exception {
    double before = failovers(pool);
    assertThat(loginReply(pool, user(pool, failing))).contains(goodName);
    assertThat(failovers(pool)).isEqualTo(before + 1);
  }

  private String loginReply(String pool, String user) throws IOException {
    try (Conversation c = imaps()) {
      c.send("t1 LOGIN " + user + " " + PW + "\r\n");
      String reply = c.readLine();
      assertThat(reply).as(pool).startsWith("t1 OK");
      return reply;
    }
  }

  private void pool(String name, HealthCheck check, TlsMode tls, Path ca, Server... servers) {
    builder.backend(new BackendConfig(name, List.of(servers),
        new BackendConfig.Endpoint(143, tls), new BackendConfig.Endpoint(110, TlsMode.NONE),
        true, ca, Balance.USER_HASH, check, ClientIp.NONE));
    for (Server server : servers) {
      builder.passwdLine(passwdLine(user(name, server.name()), PW, "backend=" + name));
    }
  }

  private static Server server(String name, int imapPort) {
    // "localhost" so that certificates for localhost verify; IPv4 loopback either way.
    return new Server(name, "localhost", 1, imapPort, null);
  }

  /** The first of pool-N names whose ring starts at {@code server} (servers in order a, b). */
  private String user(String pool, String server) {
    List<String> names = ringOf(pool);
    HashRing ring = new HashRing(names, names.stream().map(n -> 1).toList());
    for (int i = 0; ; i++) {
      String user = pool + "-" + i;
      if (names.get(ring.first(user, s -> true)).equals(server)) {
        return user;
      }
    }
  }

  private static List<String> ringOf(String pool) {
    return switch (pool) {
      case "refused", "pop3" -> List.of("dead", "good");
      case "nogreeting" -> List.of("silent", "good");
      case "bye" -> List.of("bye", "good");
      case "tls" -> List.of("wrongname", "good");
      case "rejects" -> List.of("rejects", "good");
      case "closes" -> List.of("closes", "good");
      case "alldown" -> List.of("one", "two");
      case "badcert" -> List.of("wrongname", "good");
      case "checked" -> List.of("flappy", "steady");
      case "slow" -> List.of("slow", "spare");
      default -> throw new IllegalArgumentException(pool);
    };
  }

  private double up(String backend, String server) {
    Gauge g = postern.meters().registry().find("postern.backend.up")
        .tags("backend", backend, "server", server, "protocol", "imap").gauge();
    return g == null ? -1 : g.value();
  }

  private long checks(String backend, String server, String result) {
    io.micrometer.core.instrument.Timer t = postern.meters().registry()
        .find("postern.backend.check.duration").tags("backend", backend, "server", server,
            "protocol", "imap", "result", result).timer();
    return t == null ? 0 : t.count();
  }

  private double sessions(String backend, String server) {
    return postern.meters().registry().find("postern.backend.sessions")
        .tags("backend", backend, "server", server).gauge().value();
  }

  private double failovers(String backend) {
    Counter c = postern.meters().registry().find("postern.backend.failovers")
        .tags("backend", backend).counter();
    return c == null ? 0 : c.count();
  }

  private Conversation imaps() throws IOException {
    Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls());
    c.expect("* OK");
    return c;
  }

  private FakeBackend fake(FakeBackend.Script script) throws IOException {
    FakeBackend fake = FakeBackend.start(script, localhostTls);
    fakes.add(fake);
    return fake;
  }

  private FakeBackend fake(FakeBackend.Script script, InetAddress address, int port)
      throws IOException {
    FakeBackend fake = FakeBackend.start(script, localhostTls, address, port);
    fakes.add(fake);
    return fake;
  }

  private FakeBackend fakeTls(FakeBackend.Script script, TestTls tls) throws IOException {
    FakeBackend fake = FakeBackend.startImplicitTls(script, tls);
    fakes.add(fake);
    return fake;
  }

  /** Takes any user with the password; its name is in the login reply. Answers checks too. */
  private static FakeBackend.Script answering(String name) {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] " + name + " ready\r\n");
      while (true) {
        String line = c.readLine();
        String[] words = line.split(" ");
        String tag = words[0];
        switch (words.length > 1 ? words[1].toUpperCase() : "") {
          case "LOGIN" -> c.send(tag + (words[3].replace("\"", "").equals(PW)
              ? " OK [CAPABILITY IMAP4rev1] Logged in at " + name + "\r\n"
              : " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"));
          case "CAPABILITY" -> c.send("* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n");
          case "LOGOUT" -> {
            c.send("* BYE bye\r\n" + tag + " OK LOGOUT completed\r\n");
            return;
          }
          default -> c.send(tag + " OK " + name + "\r\n");
        }
      }
    };
  }

  /** As {@link #answering}, and keeps the session until the client leaves. */
  private static FakeBackend.Script holding(String name) {
    return answering(name);
  }
}
