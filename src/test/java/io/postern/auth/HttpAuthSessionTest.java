package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.credentials.Secret;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeAuthService;
import io.postern.testing.FakeAuthService.Reply;
import io.postern.testing.FakeAuthService.Request;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Logins through Postern with {@code auth.source: http}: a real HTTP auth service on loopback
 * (scripted per test, recording every request as it came over the wire) and fake mail backends.
 * Each test checks what the client is answered, what the auth service was asked, and where the
 * user ended up.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpAuthSessionTest {

  private static final String CAPS = "IMAP4rev1 LITERAL+ ID";
  private static final String SECRET_HEADER = "X-Postern-Secret";
  private static final String SECRET_VALUE = "shared-3f9a";
  private static final String AUTH_FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed.";
  private static final String POP_AUTH_FAILED = "-ERR [AUTH] Authentication failed.";
  private static final java.util.regex.Pattern STORE_USER =
      java.util.regex.Pattern.compile("store-user-\\d+");

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");
  private final List<FakeBackend> backends = new ArrayList<>();
  /** Every password a test used: none may ever appear in Postern's log. */
  private final Set<String> secrets = ConcurrentHashMap.newKeySet();
  private FakeAuthService service;
  private FakeBackend second;
  private PosternFixture postern;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    logs = LogCapture.start();
    service = FakeAuthService.start(r -> Reply.failure("no script"));
    second = FakeBackend.start(BackendScripts.imap(CAPS, "carl", "carl-pw",
        BackendScripts.imapCommands("carl")), tls);
    postern = PosternFixture.builder(dir.resolve("main"))
        .httpAuth(List.of(service.url()), Duration.ofSeconds(3),
            Map.of(SECRET_HEADER, SECRET_VALUE))
        .backend("second", "127.0.0.1", second.port(), TlsMode.NONE, 1, TlsMode.NONE, true, null)
        .maxAttempts(5)
        .start();
  }

  @BeforeEach
  void reset() {
    service.clear();
  }

  @AfterEach
  void checks() throws Exception {
    for (FakeBackend b : backends) {
      assertThat(b.failures()).as("backend script failures").isEmpty();
      b.close();
    }
    backends.clear();
    assertThat(service.failures()).as("auth service script failures").isEmpty();
    assertNoSecretInLogs();
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (postern != null) {
        postern.close();
      }
      // Everything Postern logged, up to its last line, still names no password.
      assertNoSecretInLogs();
    } finally {
      logs.stop();
      second.close();
      service.close();
    }
  }

  // --- success, and what the service is told ----------------------------------------------

  @Test
  void anImapsLoginShouldSendNginxsHeadersAndReachTheServersBackend() throws Exception {
    String password = "alice pw%1";
    FakeBackend backend = imapBackend("alice", password);
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    String tlsVersion;
    try (Conversation c = imaps()) {
      tlsVersion = c.tlsProtocol();
      c.send("a LOGIN alice \"alice pw%1\"\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      assertThat(whoami(c)).isEqualTo("alice");
    }
    assertThat(service.requests()).hasSize(1);
    Request r = service.requests().get(0);
    assertThat(r.requestLine()).startsWith("GET /auth HTTP/1.");
    assertThat(authHeaderNames(r)).containsExactly("Auth-Method", "Auth-User", "Auth-Pass",
        "Auth-Protocol", "Auth-Login-Attempt", "Client-IP", "Auth-SSL", "Auth-SSL-Protocol",
        "Auth-SSL-Cipher", SECRET_HEADER);
    assertThat(r.header("Auth-Method")).isEqualTo("plain");
    assertThat(r.header("Auth-User")).isEqualTo("alice");
    assertThat(r.header("Auth-Pass")).isEqualTo("alice%20pw%251");
    assertThat(r.header("Auth-Protocol")).isEqualTo("imap");
    assertThat(r.header("Auth-Login-Attempt")).isEqualTo("1");
    assertThat(r.header("Client-IP")).isEqualTo("127.0.0.1");
    assertThat(r.header("Auth-SSL")).isEqualTo("on");
    assertThat(r.header("Auth-SSL-Protocol")).isEqualTo(tlsVersion);
    assertThat(r.header("Auth-SSL-Cipher")).isNotBlank();
    assertThat(r.header(SECRET_HEADER)).isEqualTo(SECRET_VALUE);
    assertThat(backend.connections()).isEqualTo(1);
  }

  @Test
  void authenticatePlainShouldSendTheUtf8UserAsItsBytesAndTheEscapedPassword() throws Exception {
    String user = "jörg";
    String password = "geheim wört";
    FakeBackend backend = imapBackend("joerg", "store-pw");
    secrets.add(password);
    secrets.add(saslPlain(user, password));
    service.script(r -> Reply.ok("127.0.0.1", backend.port())
        .with("Auth-User", "joerg").with("Auth-Pass", "store-pw"));
    try (Conversation c = imaps()) {
      c.send("a AUTHENTICATE PLAIN " + saslPlain(user, password) + "\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      assertThat(whoami(c)).isEqualTo("joerg");
    }
    Request r = single();
    assertThat(r.header("Auth-Method")).isEqualTo("plain");
    assertThat(r.headerBytes("Auth-User")).isEqualTo(user.getBytes(StandardCharsets.UTF_8));
    assertThat(r.headerBytes("Auth-Pass")).isEqualTo(concat(ascii("geheim%20w"),
        "ö".getBytes(StandardCharsets.UTF_8), ascii("rt")));
    assertThat(r.header("Auth-SSL")).isEqualTo("on");
  }

  @Test
  void aPop3sLoginShouldSayPop3AndReachTheServersBackend() throws Exception {
    FakeBackend backend = FakeBackend.start(BackendScripts.pop3("USER\r\n", "paul", "paul-pw",
        BackendScripts.pop3Commands()), tls);
    backends.add(backend);
    secrets.add("paul-pw");
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    String tlsVersion;
    try (Conversation c = pop3s()) {
      tlsVersion = c.tlsProtocol();
      c.send("USER paul\r\n");
      c.expect("+OK");
      c.send("PASS paul-pw\r\n");
      assertThat(c.readLine()).isEqualTo("+OK Logged in as paul");
      c.send("QUIT\r\n");
      assertThat(c.readLine()).isEqualTo("+OK bye");
    }
    Request r = single();
    assertThat(r.header("Auth-Protocol")).isEqualTo("pop3");
    assertThat(r.header("Auth-Method")).isEqualTo("plain");
    assertThat(r.header("Auth-User")).isEqualTo("paul");
    assertThat(r.header("Auth-Pass")).isEqualTo("paul-pw");
    assertThat(r.header("Auth-SSL")).isEqualTo("on");
    assertThat(r.header("Auth-SSL-Protocol")).isEqualTo(tlsVersion);
    assertThat(r.header("Client-IP")).isEqualTo("127.0.0.1");
    assertThat(r.header(SECRET_HEADER)).isEqualTo(SECRET_VALUE);
  }

  @Test
  void anIpv6ClientShouldBeNamedInTheCompressedFormNginxSends() throws Exception {
    assumeTrue(ipv6Loopback(), "no IPv6 loopback here");
    FakeBackend backend = imapBackend("ivy", "ivy-pw");
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    try (PosternFixture v6 = PosternFixture.builder(dir.resolve("v6"))
        .httpAuth(List.of(service.url()), Duration.ofSeconds(3), Map.of())
        .listener("imaps6", Protocol.IMAP, "::1", TlsMode.IMPLICIT).start();
         Conversation c = MailClient.implicitTls("::1", v6.port("imaps6"), tls)) {
      c.expect("* OK");
      c.send("a LOGIN ivy ivy-pw\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      assertThat(whoami(c)).isEqualTo("ivy");
    }
    // nginx writes the address as ngx_sock_ntop() does (RFC 5952): scripts compare strings.
    assertThat(single().header("Client-IP")).isEqualTo("::1");
  }

  // --- failures ------------------------------------------------------------------------------

  @Test
  void aRefusalShouldFailTheLoginKeepTheConnectionAndCountAttempts() throws Exception {
    FakeBackend backend = imapBackend("dora", "dora-right");
    secrets.add("dora-wrong");
    service.script(r -> "dora-right".equals(r.header("Auth-Pass"))
        ? Reply.ok("127.0.0.1", backend.port())
        : Reply.failure("Invalid login or password"));
    try (Conversation c = imaps()) {
      c.send("a LOGIN dora dora-wrong\r\n");
      assertThat(c.readLine()).isEqualTo("a " + AUTH_FAILED);
      c.send("b NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("b OK NOOP completed.");
      assertThat(backend.connections()).isZero();
      c.send("c LOGIN dora dora-right\r\n");
      assertThat(c.readLine()).startsWith("c OK");
      assertThat(whoami(c)).isEqualTo("dora");
    }
    assertThat(service.requests()).extracting(r -> r.header("Auth-Login-Attempt"))
        .containsExactly("1", "2");
    assertThat(service.requests()).extracting(r -> r.header("Auth-Pass"))
        .containsExactly("dora-wrong", "dora-right");
  }

  @Test
  void aPop3RefusalShouldFailTheLoginAndKeepTheConnection() throws Exception {
    secrets.add("wrong-pop-pw");
    service.script(r -> Reply.failure("Invalid login or password"));
    try (Conversation c = pop3s()) {
      c.send("USER pia\r\n");
      c.expect("+OK");
      c.send("PASS wrong-pop-pw\r\n");
      assertThat(c.readLine()).isEqualTo(POP_AUTH_FAILED);
      c.send("CAPA\r\n");
      assertThat(c.readUntil(".")).contains("USER");
    }
    assertThat(single().header("Auth-Protocol")).isEqualTo("pop3");
  }

  @Test
  void aRefusalWithAuthWaitShouldHoldTheReplyThatLong() throws Exception {
    secrets.add("erin-wrong");
    service.script(r -> Reply.failure("Invalid login or password").with("Auth-Wait", "2"));
    try (Conversation c = imaps()) {
      long sent = System.nanoTime();
      c.send("a LOGIN erin erin-wrong\r\n");
      String reply = c.readLine();
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
      assertThat(reply).isEqualTo("a " + AUTH_FAILED);
      assertThat(waited).as("ms until the refusal").isGreaterThanOrEqualTo(1900);
      c.send("b NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("b OK NOOP completed.");
    }
    assertThat(service.requests()).hasSize(1);
  }

  @Test
  void waitThenOkShouldAskAgainAndLogIn() throws Exception {
    FakeBackend backend = imapBackend("fred", "fred-pw");
    AtomicInteger asked = new AtomicInteger();
    service.script(r -> asked.incrementAndGet() == 1
        ? Reply.status("WAIT").with("Auth-Wait", "1")
        : Reply.ok("127.0.0.1", backend.port()));
    try (Conversation c = imaps()) {
      long sent = System.nanoTime();
      c.send("a LOGIN fred fred-pw\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent))
          .isGreaterThanOrEqualTo(900);
      assertThat(whoami(c)).isEqualTo("fred");
    }
    assertThat(service.requests()).hasSize(2)
        .allSatisfy(r -> {
          assertThat(r.header("Auth-User")).isEqualTo("fred");
          // The same login attempt, asked again.
          assertThat(r.header("Auth-Login-Attempt")).isEqualTo("1");
        });
  }

  @Test
  void aServiceThatOnlyEverSaysWaitShouldEndInUnavailable() throws Exception {
    FakeBackend backend = imapBackend("walt", "walt-pw");
    service.script(r -> Reply.status("WAIT").with("Auth-Wait", "0"));
    try (Conversation c = imaps()) {
      c.send("a LOGIN walt walt-pw\r\n");
      assertThat(c.readLine()).startsWith("a NO [UNAVAILABLE]");
      c.send("b NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("b OK NOOP completed.");
    }
    // Asked, then asked again after each of a bounded number of waits.
    assertThat(service.requests()).hasSizeBetween(2, 5);
    assertThat(backend.connections()).isZero();
  }

  static Stream<Arguments> oldStyleServices() {
    return Stream.of(
        Arguments.of("HTTP/1.0, no length, closes", "HTTP/1.0 200 OK\r\nAuth-Status: OK\r\n"
            + "Auth-Server: 127.0.0.1\r\nAuth-Port: PORT\r\n\r\n"),
        Arguments.of("HTTP/1.1, Connection: close", "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\n"
            + "Auth-Server: 127.0.0.1\r\nAuth-Port: PORT\r\nConnection: close\r\n"
            + "Content-Length: 0\r\n\r\n"),
        Arguments.of("HTTP/1.1 keep-alive, yet closes", "HTTP/1.1 200 OK\r\nAuth-Status: OK\r\n"
            + "Auth-Server: 127.0.0.1\r\nAuth-Port: PORT\r\nContent-Length: 2\r\n\r\nok"));
  }

  /** Scripts written for nginx (one connection per request) must keep working, login after login. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("oldStyleServices")
  void servicesThatCloseAfterEachAnswerShouldWorkForEveryLogin(String what, String response)
      throws Exception {
    FakeBackend backend = imapBackend("olga", "olga-pw");
    service.script(r -> Reply.raw(response.replace("PORT", String.valueOf(backend.port()))));
    for (int i = 0; i < 3; i++) {
      try (Conversation c = imaps()) {
        c.send("a LOGIN olga olga-pw\r\n");
        assertThat(c.readLine()).as("%s, login %d", what, i).startsWith("a OK");
        assertThat(whoami(c)).isEqualTo("olga");
      }
    }
    assertThat(service.requests()).hasSize(3);
  }

  // --- where the user goes -------------------------------------------------------------------

  @Test
  void aRewrittenUserAndPasswordShouldBeWhatTheBackendReceives() throws Exception {
    FakeBackend backend = imapBackend("u-7731", "master secret");
    secrets.add("gina-own-pw");
    service.script(r -> Reply.ok("127.0.0.1", backend.port())
        .with("Auth-User", "u-7731").with("Auth-Pass", "master secret"));
    try (Conversation c = imaps()) {
      c.send("a LOGIN gina gina-own-pw\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      assertThat(whoami(c)).isEqualTo("u-7731");
    }
    assertThat(backend.received()).anyMatch(l -> l.contains("LOGIN") && l.contains("u-7731"))
        .noneMatch(l -> l.contains("gina"));
  }

  @Test
  void authServerShouldWorkAsAHostNameAndAsAnAddress() throws Exception {
    FakeBackend backend = imapBackend("hank", "hank-pw");
    for (String server : List.of("localhost", "127.0.0.1")) {
      service.script(r -> Reply.ok(server, backend.port()));
      try (Conversation c = imaps()) {
        c.send("a LOGIN hank hank-pw\r\n");
        assertThat(c.readLine()).as("Auth-Server: %s", server).startsWith("a OK");
        assertThat(whoami(c)).isEqualTo("hank");
      }
    }
    assertThat(backend.connections()).isEqualTo(2);
  }

  @Test
  void authBackendShouldSendTheUserToThatConfiguredBackend() throws Exception {
    secrets.add("carl-pw");
    int before = second.connections();
    service.script(r -> Reply.ok().with("Auth-Backend", "second"));
    try (Conversation c = imaps()) {
      c.send("a LOGIN carl carl-pw\r\n");
      assertThat(c.readLine()).startsWith("a OK");
      assertThat(whoami(c)).isEqualTo("carl");
    }
    assertThat(second.connections()).isEqualTo(before + 1);
  }

  @Test
  void anUnknownAuthBackendShouldBeUnavailable() throws Exception {
    secrets.add("carl-pw");
    int before = second.connections();
    service.script(r -> Reply.ok().with("Auth-Backend", "nosuch"));
    try (Conversation c = imaps()) {
      c.send("a LOGIN carl carl-pw\r\n");
      assertThat(c.readLine()).startsWith("a NO [UNAVAILABLE]");
    }
    assertThat(second.connections()).isEqualTo(before);
  }

  // --- a service that is slow, dead or talks nonsense ------------------------------------------

  @Test
  void aSlowServiceShouldBeUnavailableAndItsLateYesIgnored() throws Exception {
    FakeBackend imapBackend = imapBackend("ivan", "ivan-pw");
    FakeBackend popBackend = FakeBackend.start(BackendScripts.pop3("USER\r\n", "ivan",
        "ivan-pw", BackendScripts.pop3Commands()), tls);
    backends.add(popBackend);
    try (PosternFixture slow = PosternFixture.builder(dir.resolve("slow"))
        .httpAuth(List.of(service.url()), Duration.ofMillis(500), Map.of()).start()) {
      service.script(r -> Reply.ok("127.0.0.1", "imap".equals(r.header("Auth-Protocol"))
          ? imapBackend.port() : popBackend.port()).after(Duration.ofMillis(1500)));
      try (Conversation imap = connect(slow, "imaps", "* OK");
           Conversation pop = connect(slow, "pop3s", "+OK")) {
        long sent = System.nanoTime();
        imap.send("a LOGIN ivan ivan-pw\r\n");
        assertThat(imap.readLine()).startsWith("a NO [UNAVAILABLE]");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent))
            .isGreaterThanOrEqualTo(450).isLessThan(1500);
        pop.send("USER ivan\r\n");
        pop.expect("+OK");
        pop.send("PASS ivan-pw\r\n");
        assertThat(pop.readLine()).startsWith("-ERR [SYS/TEMP]");
        // The yes that comes late must not log anybody in later.
        await().during(Duration.ofMillis(1600)).atMost(Duration.ofSeconds(4)).until(() ->
            imapBackend.connections() == 0 && popBackend.connections() == 0);
        imap.send("b NOOP\r\n");
        assertThat(imap.readLine()).isEqualTo("b OK NOOP completed.");
        pop.send("CAPA\r\n");
        assertThat(pop.readLine()).startsWith("+OK");
      }
      assertThat(service.requests()).hasSize(2);
    }
  }

  @Test
  void aDeadFirstUrlShouldFailOverToTheSecond() throws Exception {
    FakeBackend backend = imapBackend("june", "june-pw");
    int dead = Ports.closed();
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    try (PosternFixture failover = PosternFixture.builder(dir.resolve("failover"))
        .httpAuth(List.of("http://127.0.0.1:" + dead + "/auth", service.url()),
            Duration.ofSeconds(3), Map.of()).start()) {
      for (int i = 0; i < 3; i++) {
        try (Conversation c = connect(failover, "imaps", "* OK")) {
          c.send("a LOGIN june june-pw\r\n");
          assertThat(c.readLine()).startsWith("a OK");
          assertThat(whoami(c)).isEqualTo("june");
        }
      }
      // The dead one is skipped for its back-off, and shown down.
      assertThat(MetricsReader.value(failover, "postern_auth_service_up", "url",
          "http://127.0.0.1:" + dead + "/auth")).isZero();
      assertThat(MetricsReader.value(failover, "postern_auth_service_up", "url",
          service.url())).isEqualTo(1);
    }
    assertThat(service.requests()).hasSize(3);
    // The operator is told which service is down, once, not at every login.
    assertThat(logs.lines()).filteredOn(l -> l.contains("auth service")
        && l.contains("127.0.0.1:" + dead + "/auth is down")).hasSize(1);
    assertThat(logs.lines()).filteredOn(l -> l.contains("127.0.0.1:" + dead)).hasSizeLessThanOrEqualTo(2);
  }

  static Stream<Arguments> garbage() {
    return Stream.of(
        Arguments.of("no Auth-Status", Reply.http(200, "")
            .with("Auth-Server", "127.0.0.1").with("Auth-Port", "PORT")),
        Arguments.of("HTTP 500 with a body", Reply.http(500,
                "<html><body>Internal Server Error</body></html>")
            .with("Content-Type", "text/html")
            .with("Auth-Server", "127.0.0.1").with("Auth-Port", "PORT")),
        Arguments.of("Auth-Port garbage", Reply.status("OK")
            .with("Auth-Server", "127.0.0.1").with("Auth-Port", "14x3")),
        Arguments.of("Auth-Server garbage", Reply.status("OK")
            .with("Auth-Server", "127.0.0.1 evil").with("Auth-Port", "PORT")),
        Arguments.of("not HTTP at all", Reply.raw("Auth-Status: OK\r\n\r\n")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("garbage")
  void garbageFromTheServiceShouldBeUnavailableAndNeverALogin(String what, Reply reply)
      throws Exception {
    FakeBackend backend = imapBackend("kate", "kate-pw");
    service.script(r -> withPort(reply, backend.port()));
    try (Conversation c = imaps()) {
      c.send("a LOGIN kate kate-pw\r\n");
      assertThat(c.readLine()).as(what).startsWith("a NO [UNAVAILABLE]");
      c.send("b NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("b OK NOOP completed.");
    }
    try (Conversation c = pop3s()) {
      c.send("USER kate\r\n");
      c.expect("+OK");
      c.send("PASS kate-pw\r\n");
      assertThat(c.readLine()).as(what).startsWith("-ERR [SYS/TEMP]");
    }
    assertThat(backend.connections()).isZero();
    assertThat(service.requests()).hasSize(2);
  }

  // --- many at once ----------------------------------------------------------------------------

  @Test
  void concurrentLoginsShouldEachReachTheirOwnBackendAsTheirOwnUser() throws Exception {
    int n = 30;
    List<FakeBackend> stores = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String storeUser = "store-user-" + i;
      String storePw = "store-pw-" + i;
      secrets.add(storePw);
      secrets.add("own-pw-" + i);
      FakeBackend b = i % 2 == 0
          ? FakeBackend.start(BackendScripts.imap(CAPS, storeUser, storePw,
              BackendScripts.imapCommands(storeUser)), tls)
          : FakeBackend.start(BackendScripts.pop3("USER\r\n", storeUser, storePw,
              BackendScripts.pop3Commands()), tls);
      backends.add(b);
      stores.add(b);
    }
    service.script(r -> {
      int i = Integer.parseInt(r.user().substring("user-".length()));
      assertThat(r.header("Auth-Pass")).isEqualTo("own-pw-" + i);
      return Reply.ok("127.0.0.1", stores.get(i).port())
          .with("Auth-User", "store-user-" + i).with("Auth-Pass", "store-pw-" + i)
          .after(Duration.ofMillis(1 + ThreadLocalRandom.current().nextInt(250)));
    });
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<String>> seen = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int k = i;
        seen.add(pool.submit(() -> {
          go.await();
          return k % 2 == 0 ? imapWhoami(k) : pop3Whoami(k);
        }));
      }
      go.countDown();
      for (int i = 0; i < n; i++) {
        assertThat(seen.get(i).get(30, TimeUnit.SECONDS)).as("client %d", i)
            .isEqualTo("store-user-" + i);
      }
    } finally {
      pool.shutdownNow();
    }
    for (int i = 0; i < n; i++) {
      FakeBackend b = stores.get(i);
      String me = "store-user-" + i;
      assertThat(b.connections()).as("backend %d", i).isEqualTo(1);
      assertThat(b.received()).as("backend %d", i).anyMatch(l -> l.contains(me));
      // Nobody else's name ever reached this backend.
      for (String line : b.received()) {
        java.util.regex.Matcher m = STORE_USER.matcher(line);
        while (m.find()) {
          assertThat(m.group()).as("backend %d received '%s'", i, line).isEqualTo(me);
        }
      }
    }
    assertThat(service.requests()).hasSize(n);
  }

  // ---------------------------------------------------------------------------------------------

  private String imapWhoami(int i) throws Exception {
    try (Conversation c = imaps()) {
      c.send("a LOGIN user-" + i + " own-pw-" + i + "\r\n");
      String ok = c.readLine();
      if (!ok.startsWith("a OK")) {
        return ok;
      }
      return whoami(c);
    }
  }

  private String pop3Whoami(int i) throws Exception {
    try (Conversation c = pop3s()) {
      c.send("USER user-" + i + "\r\n");
      c.expect("+OK");
      c.send("PASS own-pw-" + i + "\r\n");
      String ok = c.readLine();
      c.send("QUIT\r\n");
      return ok.startsWith("+OK Logged in as ") ? ok.substring("+OK Logged in as ".length())
          : ok;
    }
  }

  /** Asks the fake backend who is logged in, then logs out. */
  private static String whoami(Conversation c) throws Exception {
    c.send("w WHOAMI\r\n");
    String line = c.readLine();
    assertThat(line).startsWith("* WHOAMI ");
    c.expect("w OK");
    c.send("z LOGOUT\r\n");
    c.readUntil("z ");
    return line.substring("* WHOAMI ".length());
  }

  private FakeBackend imapBackend(String user, String password) throws Exception {
    FakeBackend b = FakeBackend.start(BackendScripts.imap(CAPS, user, password,
        BackendScripts.imapCommands(user)), tls);
    backends.add(b);
    secrets.add(password);
    return b;
  }

  private Conversation imaps() throws Exception {
    return connect(postern, "imaps", "* OK");
  }

  private Conversation pop3s() throws Exception {
    return connect(postern, "pop3s", "+OK");
  }

  private Conversation connect(PosternFixture fixture, String listener, String greeting)
      throws Exception {
    Conversation c = MailClient.implicitTls(fixture.port(listener), tls);
    c.expect(greeting);
    return c;
  }

  private Request single() {
    assertThat(service.requests()).hasSize(1);
    return service.requests().get(0);
  }

  /** The headers the auth_http protocol defines, plus the configured one, in wire order. */
  private static List<String> authHeaderNames(Request r) {
    return r.names().stream().filter(n -> n.startsWith("Auth-") || n.startsWith("Client-")
        || n.equalsIgnoreCase(SECRET_HEADER)).toList();
  }

  /** {@code reply} with every header value {@code PORT} replaced by {@code port}. */
  private static Reply withPort(Reply reply, int port) {
    Reply out = new Reply(reply.status(), List.of(), reply.body(), reply.delay(), reply.raw(),
        reply.keepOpen());
    for (FakeAuthService.Header h : reply.headers()) {
      out = out.with(h.name(), h.value().equals("PORT") ? String.valueOf(port) : h.value());
    }
    return out;
  }

  private void assertNoSecretInLogs() {
    List<String> lines = logs.lines();
    for (String secret : secrets) {
      String escaped = AuthHttpRequest.escape(secret.getBytes(StandardCharsets.UTF_8));
      for (String line : lines) {
        assertThat(line).as("a log line").doesNotContain(secret).doesNotContain(escaped);
      }
    }
  }

  private static String saslPlain(String user, String password) {
    return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password)
        .getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static boolean ipv6Loopback() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("::1"))) {
      return true;
    } catch (Exception e) {
      return false;
    }
  }

}
