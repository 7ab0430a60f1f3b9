package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.config.Protocol;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.FakeAuthService;
import io.postern.testing.FakeAuthService.Reply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP transport to an {@code auth_http} service under the faults that cost nginx-style
 * proxies their logins: a service that stops halfway through an answer, a queue of logins that
 * gave up, a kept-alive connection the service has just closed, a contradicting answer.
 */
class HttpAuthenticatorTest {

  private static final Duration TIMEOUT = Duration.ofMillis(400);

  private Vertx vertx;
  private FakeAuthService service;
  private HttpAuthenticator auth;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    service = FakeAuthService.start(r -> Reply.ok("127.0.0.1", 143));
    auth = authenticator(TIMEOUT);
  }

  private HttpAuthenticator authenticator(Duration timeout) throws Exception {
    return HttpAuthenticator.create(vertx,
        new AuthConfig.Http(List.of(service.url()), timeout, Map.of(), null), Set.of("default"));
  }

  @AfterEach
  void stop() throws Exception {
    auth.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    service.close();
  }

  private static AuthRequest request(String user) {
    return new AuthRequest(Protocol.IMAP, "login", new Credentials(user, Secret.of(user + "-pw")),
        "192.0.2.7", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1);
  }

  private static AuthResult result(Future<AuthResult> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private AuthResult login(String user) throws Exception {
    return result(auth.authenticate(request(user)));
  }

  @Test
  void aTokenWithoutUserShouldReachTheServiceWithItsMechanismAndComeBackToBeReplayed()
      throws Exception {
    List<FakeAuthService.Request> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    service.script(r -> {
      seen.add(r);
      return Reply.ok("127.0.0.1", 143).with("Auth-User", "alice");
    });
    AuthRequest token = new AuthRequest(Protocol.IMAP, "OAUTHBEARER",
        new Credentials("", Secret.of("eyJ0b2tlbiJ9.e30.c2ln")), "192.0.2.7", "TLSv1.3",
        "TLS_AES_128_GCM_SHA256", 1);
    AuthResult.Accepted a = (AuthResult.Accepted) result(auth.authenticate(token));
    assertThat(seen.get(0).header("Auth-Method")).isEqualTo("oauthbearer");
    assertThat(seen.get(0).header("Auth-User")).isEmpty();
    assertThat(seen.get(0).header("Auth-Pass")).isEqualTo("eyJ0b2tlbiJ9.e30.c2ln");
    assertThat(a.credentials().mechanism())
        .isEqualTo(io.postern.credentials.BackendCredentials.Mechanism.OAUTHBEARER);
    assertThat(a.backendUser()).isEqualTo("alice");
    assertThat(a.identity()).isEqualTo("alice");
    assertThat(auth.verifiesTokens()).isTrue();
  }

  @Test
  void answersWhoseBodyNeverEndsShouldNotKeepThePoolsConnections() throws Exception {
    auth.close();
    // Long enough for 64 connections to be made on a slow machine.
    auth = authenticator(Duration.ofSeconds(2));
    // A fresh client's first exchanges cost many times what later ones do (classes to load,
    // code to compile): 64 of them at once took up to 4 s on a loaded machine, against 0.6 s
    // once one login had been through, and the headers then missed the deadline. The deadline
    // here is about stuck bodies holding connections, so an ordinary login goes through first
    // (asked again if even that one misses the deadline on a machine that busy).
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(login("warm")).isInstanceOf(AuthResult.Accepted.class));
    // Headers and half of the promised body, then silence: each such answer holds a connection
    // until the deadline resets it.
    service.script(r -> Reply.stuck("HTTP/1.1 200 OK\r\nAuth-Status: OK\r\nAuth-Server: "
        + "127.0.0.1\r\nAuth-Port: 143\r\nContent-Length: 10\r\n\r\nhalf"));
    List<Future<AuthResult>> stuck = new ArrayList<>();
    for (int i = 0; i < HttpAuthenticator.POOL_SIZE; i++) {
      stuck.add(auth.authenticate(request("user" + i)));
    }
    for (Future<AuthResult> f : stuck) {
      // The headers were a full answer.
      assertThat(result(f)).isInstanceOf(AuthResult.Accepted.class);
    }
    service.script(r -> Reply.ok("127.0.0.1", 143));
    await().atMost(Duration.ofSeconds(8)).untilAsserted(() ->
        assertThat(login("alice")).isInstanceOf(AuthResult.Accepted.class));
  }

  @Test
  void loginsQueuedBehindAFullPoolShouldGiveUpAtTheDeadlineAndLeaveThePoolUsable()
      throws Exception {
    service.script(r -> Reply.ok("127.0.0.1", 143).after(Duration.ofSeconds(3)));
    List<Future<AuthResult>> all = new ArrayList<>();
    for (int i = 0; i < HttpAuthenticator.POOL_SIZE + 10; i++) {
      all.add(auth.authenticate(request("user" + i)));
    }
    for (Future<AuthResult> f : all) {
      assertThat(result(f)).isInstanceOf(AuthResult.Unavailable.class);
    }
    service.script(r -> Reply.ok("127.0.0.1", 143));
    assertThat(login("alice")).isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void aKeptAliveConnectionClosedByTheServiceShouldBeAskedOnceMore() throws Exception {
    AtomicInteger n = new AtomicInteger();
    // The second request meets a connection the service drops without a word, as a service
    // closing an idle connection just as it is reused does.
    service.script(r -> n.incrementAndGet() == 2 ? Reply.raw("")
        : Reply.ok("127.0.0.1", 143));
    assertThat(login("alice")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(login("bob")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(service.requests()).extracting(FakeAuthService.Request::user)
        .containsExactly("alice", "bob", "bob");
  }

  @Test
  void aServiceThatAlwaysHangsUpShouldBeAskedTwiceThenBeUnavailable() throws Exception {
    service.script(r -> Reply.raw(""));
    assertThat(login("alice")).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(service.count()).isEqualTo(2);
  }

  @Test
  void aServiceSayingYesAndNoInOneAnswerShouldRefuseTheLogin() throws Exception {
    service.script(r -> Reply.ok("127.0.0.1", 143).with("Auth-Status", "Invalid login"));
    AuthResult result = login("alice");
    assertThat(result).isInstanceOf(AuthResult.Rejected.class);
    assertThat(((AuthResult.Rejected) result).sourceText()).isEqualTo("Invalid login");
  }
}
