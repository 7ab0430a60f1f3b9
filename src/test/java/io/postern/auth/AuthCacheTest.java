package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.backend.Route;
import io.postern.config.AuthConfig;
import io.postern.config.Protocol;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeAuthService;
import io.postern.testing.FakeAuthService.Reply;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.Future;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The auth cache as users and operators see it: a repeated login within the TTL does not reach
 * the auth service (and {@code postern_auth_cache_total{result="hit"}} rises), an answer changed
 * at the service is seen once the TTL has passed, a wrong password never rides on a right one's
 * entry, unavailable answers are never remembered, and a changed passwd-file drops what was
 * remembered at once. Then {@link AuthCache} on its own, with a fake source.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthCacheTest {

  private static final String CAPS = "IMAP4rev1 LITERAL+ ID";
  private static final String AUTH_FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed.";

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");
  private final List<FakeBackend> backends = new ArrayList<>();
  private FakeAuthService service;
  /** ttl 60s, negative-ttl 60s. */
  private PosternFixture longLived;
  /** ttl 1s, negative-ttl 1s. */
  private PosternFixture shortLived;

  @BeforeAll
  void start() throws Exception {
    service = FakeAuthService.start(r -> Reply.failure("no script"));
    longLived = PosternFixture.builder(dir.resolve("long"))
        .httpAuth(List.of(service.url()), Duration.ofSeconds(3), java.util.Map.of())
        .authCache(Duration.ofSeconds(60), Duration.ofSeconds(60), 1000)
        .maxAttempts(10)
        .start();
    shortLived = PosternFixture.builder(dir.resolve("short"))
        .httpAuth(List.of(service.url()), Duration.ofSeconds(3), java.util.Map.of())
        .authCache(Duration.ofSeconds(1), Duration.ofSeconds(1), 1000)
        .maxAttempts(10)
        .start();
  }

  @AfterEach
  void closeBackends() throws Exception {
    for (FakeBackend b : backends) {
      assertThat(b.failures()).isEmpty();
      b.close();
    }
    backends.clear();
  }

  @AfterAll
  void stop() throws Exception {
    for (PosternFixture p : new PosternFixture[] {longLived, shortLived}) {
      if (p != null) {
        p.close();
      }
    }
    service.close();
  }

  // --- through Postern, against the HTTP service ------------------------------------------

  @Test
  void aSecondLoginWithinTheTtlShouldNotReachTheService() throws Exception {
    FakeBackend backend = imapBackend("amy", "amy-pw");
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    double hits = cache(longLived, "hit");
    double misses = cache(longLived, "miss");
    assertThat(login(longLived, "amy", "amy-pw")).startsWith("a OK");
    assertThat(login(longLived, "amy", "amy-pw")).startsWith("a OK");
    assertThat(service.requestsFor("amy")).hasSize(1);
    assertThat(backend.connections()).isEqualTo(2);
    assertThat(cache(longLived, "hit") - hits).isEqualTo(1.0);
    assertThat(cache(longLived, "miss") - misses).isEqualTo(1.0);
  }

  @Test
  void aChangedAnswerShouldBeSeenOnceTheTtlHasPassed() throws Exception {
    FakeBackend backend = imapBackend("bert", "bert-pw");
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    long first = System.nanoTime();
    assertThat(login(shortLived, "bert", "bert-pw")).startsWith("a OK");
    // The service changes its mind: the cached yes still holds until the TTL is over.
    service.script(r -> Reply.failure("Account locked"));
    assertThat(login(shortLived, "bert", "bert-pw")).startsWith("a OK");
    assertThat(service.requestsFor("bert")).hasSize(1);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> login(shortLived, "bert", "bert-pw").equals("a " + AUTH_FAILED));
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - first))
        .isGreaterThanOrEqualTo(1000);
    assertThat(service.requestsFor("bert")).hasSize(2);
  }

  @Test
  void aWrongPasswordShouldNeverFindTheRightOnesEntry() throws Exception {
    FakeBackend backend = imapBackend("cleo", "cleo-pw");
    service.script(r -> "cleo-pw".equals(r.header("Auth-Pass"))
        ? Reply.ok("127.0.0.1", backend.port()) : Reply.failure("Invalid login"));
    assertThat(login(longLived, "cleo", "cleo-pw")).startsWith("a OK");
    double hits = cache(longLived, "hit");
    assertThat(login(longLived, "cleo", "not-cleo-pw")).isEqualTo("a " + AUTH_FAILED);
    assertThat(service.requestsFor("cleo")).extracting(r -> r.header("Auth-Pass"))
        .containsExactly("cleo-pw", "not-cleo-pw");
    assertThat(cache(longLived, "hit") - hits).isZero();
    assertThat(backend.connections()).isEqualTo(1);
  }

  @Test
  void aRefusalShouldBeRememberedOnlyForTheNegativeTtl() throws Exception {
    FakeBackend backend = imapBackend("dirk", "dirk-pw");
    service.script(r -> Reply.failure("Invalid login"));
    double hits = cache(shortLived, "hit");
    long first = System.nanoTime();
    assertThat(login(shortLived, "dirk", "dirk-pw")).isEqualTo("a " + AUTH_FAILED);
    // Remembered: the service is not asked again at once, the answer is still no.
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    assertThat(login(shortLived, "dirk", "dirk-pw")).isEqualTo("a " + AUTH_FAILED);
    assertThat(service.requestsFor("dirk")).hasSize(1);
    assertThat(cache(shortLived, "hit") - hits).isEqualTo(1.0);
    // Forgotten after negative-ttl: the user the service now accepts gets in.
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> login(shortLived, "dirk", "dirk-pw").startsWith("a OK"));
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - first))
        .isGreaterThanOrEqualTo(1000);
    assertThat(service.requestsFor("dirk")).hasSize(2);
  }

  @Test
  void anUnavailableAnswerShouldNeverBeRemembered() throws Exception {
    FakeBackend backend = imapBackend("edda", "edda-pw");
    service.script(r -> Reply.http(502, "Bad gateway"));
    double hits = cache(longLived, "hit");
    assertThat(login(longLived, "edda", "edda-pw")).startsWith("a NO [UNAVAILABLE]");
    assertThat(login(longLived, "edda", "edda-pw")).startsWith("a NO [UNAVAILABLE]");
    service.script(r -> Reply.ok("127.0.0.1", backend.port()));
    assertThat(login(longLived, "edda", "edda-pw")).startsWith("a OK");
    assertThat(service.requestsFor("edda")).hasSize(3);
    assertThat(cache(longLived, "hit") - hits).isZero();
  }

  /**
   * Auth services decide by {@code Client-IP} too (blocked networks, per-address lockouts); a yes
   * given to one client network must not let the same credentials in from another.
   */
  @Test
  void aYesForOneClientNetworkShouldNotAdmitAnotherTheServiceRefuses() throws Exception {
    FakeBackend backend = imapBackend("fay", "fay-pw");
    service.script(r -> "127.0.0.1".equals(r.header("Client-IP"))
        ? Reply.ok("127.0.0.1", backend.port()) : Reply.failure("Not from there"));
    assertThat(login(longLived, "127.0.0.1", "fay", "fay-pw")).startsWith("a OK");
    assertThat(login(longLived, "127.0.0.2", "fay", "fay-pw")).isEqualTo("a " + AUTH_FAILED);
    assertThat(backend.connections()).isEqualTo(1);
  }

  @Test
  void aChangedPasswdFileShouldDropTheCachedYesAtOnce() throws Exception {
    FakeBackend backend = imapBackend("carol", "store-pw");
    Path home = dir.resolve("passwd");
    try (PosternFixture passwd = PosternFixture.builder(home)
        .passwdLine(PosternFixture.passwdLine("carol", "old-pw", "pass=store-pw"))
        .backend(backend.port(), 1)
        .authCache(Duration.ofSeconds(60), Duration.ofSeconds(60), 1000)
        .maxAttempts(10)
        .start()) {
      assertThat(login(passwd, "carol", "old-pw")).startsWith("a OK");
      double hits = cache(passwd, "hit");
      assertThat(login(passwd, "carol", "old-pw")).startsWith("a OK");
      assertThat(cache(passwd, "hit") - hits).as("the yes is cached").isEqualTo(1.0);

      Files.write(home.resolve("users.passwd"),
          List.of(PosternFixture.passwdLine("carol", "new-pw", "pass=store-pw")));
      // Well within the 60 s TTL: the change itself must drop the cached yes.
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
          .until(() -> login(passwd, "carol", "old-pw").equals("a " + AUTH_FAILED));
      assertThat(login(passwd, "carol", "new-pw")).startsWith("a OK");
    }
  }

  // --- AuthCache on its own ----------------------------------------------------------------

  /** Answers yes to everyone, handing the backend the client's own password, and counts. */
  private static final class FakeSource implements Authenticator {
    final AtomicInteger calls = new AtomicInteger();
    final Function<AuthRequest, AuthResult> answer;

    FakeSource(Function<AuthRequest, AuthResult> answer) {
      this.answer = answer;
    }

    @Override
    public Future<AuthResult> authenticate(AuthRequest request) {
      calls.incrementAndGet();
      return Future.succeededFuture(answer.apply(request));
    }

    @Override
    public String source() {
      return "fake";
    }
  }

  /** Counts what the cache reports to the meters. */
  private static final class Counts {
    final AtomicInteger hits = new AtomicInteger();
    final AtomicInteger misses = new AtomicInteger();
    final AtomicInteger answered = new AtomicInteger();

    AuthCache.Counters counters() {
      return new AuthCache.Counters(hits::incrementAndGet, misses::incrementAndGet,
          nanos -> answered.incrementAndGet());
    }
  }


  private static final Route ROUTE = new Route("default", "10.0.0.9", 143, null);

  private static AuthRequest request(Protocol protocol, String user, Secret password) {
    return new AuthRequest(protocol, "login", new Credentials(user, password), "192.0.2.1",
        "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1);
  }

  private static AuthResult ask(AuthCache cache, String user, String password) {
    return ask(cache, request(Protocol.IMAP, user, Secret.of(password)));
  }

  private static AuthResult ask(AuthCache cache, AuthRequest request) {
    Future<AuthResult> f = cache.authenticate(request);
    assertThat(f.isComplete()).isTrue();
    return f.result();
  }

  private static AuthCache cache(Authenticator source, long maxEntries, Counts counts) {
    return new AuthCache(source, new AuthConfig.Cache(Duration.ofSeconds(60),
        Duration.ofSeconds(60), maxEntries), counts.counters());
  }

  @Test
  void theCacheShouldHoldAtMostMaxEntriesAnswers() {
    FakeSource source = new FakeSource(r -> new AuthResult.Accepted(ROUTE,
        r.credentials().user(), r.credentials().password()));
    Counts counts = new Counts();
    AuthCache cache = cache(source, 10, counts);
    int n = 500;
    for (int i = 0; i < n; i++) {
      ask(cache, "user" + i, "pw" + i);
    }
    assertThat(source.calls.get()).isEqualTo(n);
    // Asking everyone again: at most 10 answers can still be remembered (eviction may lag
    // behind the writes a little, hence the retry).
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      int before = counts.hits.get();
      for (int i = 0; i < n; i++) {
        ask(cache, "user" + i, "pw" + i);
      }
      assertThat(counts.hits.get() - before).isLessThanOrEqualTo(10);
    });
  }

  @Test
  void aCachedYesShouldHandTheBackendThePasswordOfTheRequestNotAStoredOne() {
    FakeSource source = new FakeSource(r -> new AuthResult.Accepted(ROUTE, "store-7",
        r.credentials().password()));
    Counts counts = new Counts();
    AuthCache cache = cache(source, 100, counts);
    Secret first = Secret.of("same-pw");
    Secret second = Secret.of("same-pw");
    AuthResult.Accepted a = (AuthResult.Accepted) ask(cache, request(Protocol.IMAP, "amy",
        first));
    assertThat(a.backendPassword()).isSameAs(first);
    AuthResult.Accepted b = (AuthResult.Accepted) ask(cache, request(Protocol.IMAP, "amy",
        second));
    assertThat(counts.hits.get()).isEqualTo(1);
    assertThat(source.calls.get()).isEqualTo(1);
    // The entry kept no password: the answer carries the one this request brought.
    assertThat(b.backendPassword()).isSameAs(second).isNotSameAs(first);
    assertThat(b.backendUser()).isEqualTo("store-7");
    assertThat(b.route()).isEqualTo(ROUTE);
  }

  @Test
  void aCachedYesWithAnotherBackendPasswordShouldKeepThatPassword() {
    FakeSource source = new FakeSource(r -> new AuthResult.Accepted(ROUTE, "store-8",
        Secret.of("master-pw")));
    Counts counts = new Counts();
    AuthCache cache = cache(source, 100, counts);
    ask(cache, "bob", "bob-pw");
    AuthResult.Accepted again = (AuthResult.Accepted) ask(cache, "bob", "bob-pw");
    assertThat(counts.hits.get()).isEqualTo(1);
    assertThat(again.backendPassword()).isEqualTo(Secret.of("master-pw"));
  }

  @Test
  void theCacheShouldTellProtocolsUsersAndPasswordsApart() {
    FakeSource source = new FakeSource(r -> AuthResult.Rejected.badCredentials());
    Counts counts = new Counts();
    AuthCache cache = cache(source, 100, counts);
    ask(cache, request(Protocol.IMAP, "amy", Secret.of("pw")));
    ask(cache, request(Protocol.POP3, "amy", Secret.of("pw")));
    ask(cache, request(Protocol.IMAP, "Amy", Secret.of("pw")));
    ask(cache, request(Protocol.IMAP, "amy", Secret.of("pw2")));
    // Length-prefixed: ("ab", "c") and ("a", "bc") are different logins.
    ask(cache, request(Protocol.IMAP, "ab", Secret.of("c")));
    ask(cache, request(Protocol.IMAP, "a", Secret.of("bc")));
    assertThat(source.calls.get()).isEqualTo(6);
    assertThat(counts.hits.get()).isZero();
    // And each of them is remembered: a refusal is cached too.
    ask(cache, request(Protocol.POP3, "amy", Secret.of("pw")));
    assertThat(counts.hits.get()).isEqualTo(1);
    assertThat(source.calls.get()).isEqualTo(6);
  }

  @Test
  void anUnavailableSourceShouldBeAskedAgainEveryTime() {
    AtomicInteger n = new AtomicInteger();
    FakeSource source = new FakeSource(r -> n.incrementAndGet() <= 2
        ? new AuthResult.Unavailable("down")
        : new AuthResult.Accepted(ROUTE, "amy", r.credentials().password()));
    Counts counts = new Counts();
    AuthCache cache = cache(source, 100, counts);
    assertThat(ask(cache, "amy", "pw")).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(ask(cache, "amy", "pw")).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(ask(cache, "amy", "pw")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(ask(cache, "amy", "pw")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(source.calls.get()).isEqualTo(3);
    assertThat(counts.hits.get()).isEqualTo(1);
  }

  @Test
  void maxEntriesZeroShouldTurnTheCacheOff() {
    FakeSource source = new FakeSource(r -> new AuthResult.Accepted(ROUTE, "amy",
        r.credentials().password()));
    Counts counts = new Counts();
    AuthCache cache = cache(source, 0, counts);
    ask(cache, "amy", "pw");
    ask(cache, "amy", "pw");
    assertThat(source.calls.get()).isEqualTo(2);
    assertThat(counts.hits.get()).isZero();
    assertThat(counts.misses.get()).isZero();
    assertThat(counts.answered.get()).isEqualTo(2);
  }

  @Test
  void aChangeAtTheSourceShouldDropEveryAnswer() {
    Runnable[] changed = new Runnable[1];
    FakeSource counting = new FakeSource(r -> new AuthResult.Accepted(ROUTE, "amy",
        r.credentials().password()));
    Authenticator source = new Authenticator() {
      @Override
      public Future<AuthResult> authenticate(AuthRequest request) {
        return counting.authenticate(request);
      }

      @Override
      public String source() {
        return "fake";
      }

      @Override
      public void onChange(Runnable action) {
        changed[0] = action;
      }
    };
    AuthCache cache = cache(source, 100, new Counts());
    ask(cache, "amy", "pw");
    ask(cache, "amy", "pw");
    assertThat(counting.calls.get()).isEqualTo(1);
    changed[0].run();
    ask(cache, "amy", "pw");
    assertThat(counting.calls.get()).isEqualTo(2);
  }

  @Test
  void anAnswerGivenBeforeAChangeButArrivingAfterItShouldNotBeRemembered() {
    // The passwd-file is re-read while a login is being checked against the old version: the
    // old answer may still be given to that login, but must not outlive the change in the cache.
    Runnable[] changed = new Runnable[1];
    List<io.vertx.core.Promise<AuthResult>> pending = new ArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    Authenticator source = new Authenticator() {
      @Override
      public Future<AuthResult> authenticate(AuthRequest request) {
        calls.incrementAndGet();
        io.vertx.core.Promise<AuthResult> p = io.vertx.core.Promise.promise();
        pending.add(p);
        return p.future();
      }

      @Override
      public String source() {
        return "fake";
      }

      @Override
      public void onChange(Runnable action) {
        changed[0] = action;
      }
    };
    AuthCache cache = cache(source, 100, new Counts());
    Future<AuthResult> inFlight = cache.authenticate(request(Protocol.IMAP, "amy",
        Secret.of("old-pw")));
    changed[0].run();
    pending.get(0).complete(new AuthResult.Accepted(ROUTE, "amy", Secret.of("old-pw")));
    assertThat(inFlight.result()).isInstanceOf(AuthResult.Accepted.class);
    cache.authenticate(request(Protocol.IMAP, "amy", Secret.of("old-pw")));
    assertThat(calls.get()).as("the source is asked again after the change").isEqualTo(2);
  }

  @Test
  void aYesOverTlsShouldNotAnswerTheSameLoginWithoutTlsOrWithAnotherProtocol() {
    // A service may refuse logins without TLS, or over TLS 1.2, as nginx passes it Auth-SSL.
    FakeSource source = new FakeSource(r -> "TLSv1.3".equals(r.tlsProtocol())
        ? new AuthResult.Accepted(ROUTE, "amy", r.credentials().password())
        : AuthResult.Rejected.badCredentials());
    Counts counts = new Counts();
    AuthCache cache = cache(source, 100, counts);
    Credentials amy = new Credentials("amy", Secret.of("pw"));
    assertThat(ask(cache, request(Protocol.IMAP, "amy", Secret.of("pw"))))
        .isInstanceOf(AuthResult.Accepted.class);
    assertThat(ask(cache, new AuthRequest(Protocol.IMAP, "login", amy, "192.0.2.1", null, null,
        1))).isInstanceOf(AuthResult.Rejected.class);
    assertThat(ask(cache, new AuthRequest(Protocol.IMAP, "login", amy, "192.0.2.1", "TLSv1.2",
        "ECDHE-RSA-AES128-GCM-SHA256", 1))).isInstanceOf(AuthResult.Rejected.class);
    assertThat(source.calls.get()).isEqualTo(3);
    assertThat(counts.hits.get()).isZero();
  }

  @Test
  void loginsOnAClientCertificateListenerShouldBeCachedPerCertificateButNeverExternal() {
    // The answer may rest on the certificate (Auth-SSL-*): the same password with another
    // certificate, or with none, is asked again; the same certificate is a hit.
    FakeSource source = new FakeSource(r -> new AuthResult.Accepted(ROUTE, "amy",
        r.credentials().password()));
    Counts counts = new Counts();
    AuthCache cache = cache(source, 100, counts);
    Credentials amy = new Credentials("amy", Secret.of("pw"));
    ClientCertificate one = certificate("SUCCESS", "aa11");
    ClientCertificate other = certificate("SUCCESS", "bb22");
    for (ClientCertificate c : java.util.Arrays.asList(ClientCertificate.NONE,
        ClientCertificate.NONE, one, one, other, certificate("FAILED:expired", "bb22"), null)) {
      assertThat(ask(cache, new AuthRequest(Protocol.IMAP, "login", amy, "192.0.2.1",
          "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1, c))).isInstanceOf(AuthResult.Accepted.class);
    }
    assertThat(counts.hits.get()).isEqualTo(2);
    assertThat(source.calls.get()).isEqualTo(5);
    // EXTERNAL: no password to key it by, never cached.
    AuthRequest external = new AuthRequest(Protocol.IMAP, AuthRequest.EXTERNAL,
        new Credentials("amy", Secret.of("")), "192.0.2.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256",
        1, one);
    ask(cache, external);
    ask(cache, external);
    assertThat(source.calls.get()).isEqualTo(7);
    assertThat(counts.hits.get()).isEqualTo(2);
  }

  private static ClientCertificate certificate(String verify, String fingerprint) {
    return new ClientCertificate(verify, "CN=amy", "CN=Clients CA", "01", fingerprint, "amy",
        List.of());
  }

  @Test
  void noAnswerFromBeforeAClearShouldBeUsedAfterItEvenWhenTheyRace() throws Exception {
    // One thread logs in over and over while another changes the answer and clears the cache:
    // once a clear() has returned, the old answer must never be given again.
    AtomicInteger version = new AtomicInteger();
    FakeSource source = new FakeSource(r -> new AuthResult.Accepted(
        new Route("default", "10.0.0." + version.get(), 143, null), "amy",
        r.credentials().password()));
    AuthCache cache = cache(source, 100, new Counts());
    AtomicBoolean done = new AtomicBoolean();
    Thread asker = new Thread(() -> {
      while (!done.get()) {
        ask(cache, "amy", "pw");
      }
    });
    asker.start();
    try {
      for (int v = 1; v <= 20_000; v++) {
        version.set(v);
        cache.clear();
        AuthResult.Accepted a = (AuthResult.Accepted) ask(cache, "amy", "pw");
        assertThat(a.route().host()).as("after clear %d", v).isEqualTo("10.0.0." + v);
      }
    } finally {
      done.set(true);
      asker.join();
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** One IMAPS login on its own connection; the tagged reply to it. */
  private String login(PosternFixture postern, String user, String password) throws Exception {
    return login(postern, "127.0.0.1", user, password);
  }

  /** The same from the local address {@code from}. */
  private String login(PosternFixture postern, String from, String user, String password)
      throws Exception {
    try (Conversation c = MailClient.implicitTlsFrom(from, postern.port("imaps"), tls)) {
      c.expect("* OK");
      c.send("a LOGIN " + user + " " + password + "\r\n");
      String reply = c.readLine();
      if (reply.startsWith("a OK")) {
        c.send("z LOGOUT\r\n");
        c.readUntil("z ");
      }
      return reply;
    }
  }

  private FakeBackend imapBackend(String user, String password) throws Exception {
    FakeBackend b = FakeBackend.start(BackendScripts.imap(CAPS, user, password,
        BackendScripts.imapCommands(user)), tls);
    backends.add(b);
    return b;
  }

  private static double cache(PosternFixture postern, String result) {
    return MetricsReader.value(postern, "postern_auth_cache_total", "result", result);
  }
}
