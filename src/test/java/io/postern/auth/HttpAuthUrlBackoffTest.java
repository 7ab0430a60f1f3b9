package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.AuthConfig;
import io.postern.config.Protocol;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two auth service URLs, the first one dead (it takes the connection and never answers): the
 * logins after the first must not each pay its timeout. Real HTTP servers on loopback; the
 * back-off runs on a clock the test moves, and what is asserted is which server was asked, not
 * how long anything took.
 */
class HttpAuthUrlBackoffTest {

  private static final Duration TIMEOUT = Duration.ofMillis(300);
  private static final Duration BACKOFF = Duration.ofSeconds(10);

  /** An auth service that answers OK, or takes requests and never answers while hung. */
  private static final class Service {
    final AtomicInteger gets = new AtomicInteger();
    final AtomicInteger heads = new AtomicInteger();
    final AtomicInteger connections = new AtomicInteger();
    volatile boolean hung;
    HttpServer server;

    Service(Vertx vertx, boolean hung) throws Exception {
      this.hung = hung;
      server = vertx.createHttpServer()
          .connectionHandler(c -> connections.incrementAndGet())
          .requestHandler(r -> {
            (r.method() == HttpMethod.HEAD ? heads : gets).incrementAndGet();
            if (!this.hung) {
              r.response().putHeader("Auth-Status", "OK").putHeader("Auth-Server", "127.0.0.1")
                  .putHeader("Auth-Port", "143").end();
            }
          })
          .listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
    }

    String url() {
      return "http://127.0.0.1:" + server.actualPort() + "/auth";
    }
  }

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private Vertx vertx;
  private Vertx services;
  private Service first;
  private Service second;
  private HttpAuthenticator auth;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    services = Vertx.vertx();
    first = new Service(services, true);
    second = new Service(services, false);
    auth = HttpAuthenticator.create(vertx, new AuthConfig.Http(List.of(first.url(),
            second.url()), TIMEOUT, Map.of(), null, BACKOFF, BACKOFF.multipliedBy(4)),
        Set.of("default"), now::get);
  }

  @AfterEach
  void stop() throws Exception {
    auth.close().await(5, TimeUnit.SECONDS);
    vertx.close().await(5, TimeUnit.SECONDS);
    services.close().await(5, TimeUnit.SECONDS);
  }

  private void pass(Duration d) {
    now.addAndGet(d.toNanos());
  }

  private AuthResult login(String user) throws Exception {
    return auth.authenticate(new AuthRequest(Protocol.IMAP, "login",
            new Credentials(user, Secret.of(user + "-pw")), "192.0.2.7", "TLSv1.3",
            "TLS_AES_128_GCM_SHA256", 1))
        .await(10, TimeUnit.SECONDS);
  }

  @Test
  void aDeadFirstUrlShouldCostOneTimeoutPerBackoffNotOnePerLogin() throws Exception {
    assertThat(login("user0")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(first.gets).hasValue(1);
    assertThat(second.gets).hasValue(1);
    for (int i = 1; i <= 20; i++) {
      assertThat(login("user" + i)).isInstanceOf(AuthResult.Accepted.class);
    }
    // Not asked, not even connected to: 20 timeouts saved.
    assertThat(first.gets).hasValue(1);
    assertThat(first.connections).hasValue(1);
    assertThat(second.gets).hasValue(21);
    assertThat(auth.up(first.url())).isFalse();
    assertThat(auth.up(second.url())).isTrue();

    // After the back-off, one login asks it again; it is still dead, and is skipped for twice as
    // long.
    pass(BACKOFF);
    assertThat(login("probe")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(first.gets).hasValue(2);
    pass(BACKOFF.multipliedBy(2).minusMillis(1));
    for (int i = 0; i < 5; i++) {
      assertThat(login("again" + i)).isInstanceOf(AuthResult.Accepted.class);
    }
    assertThat(first.gets).hasValue(2);

    // It comes back: the next login after the back-off finds it, and it is first again.
    first.hung = false;
    pass(Duration.ofMillis(1));
    int before = second.gets.get();
    assertThat(login("back")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(first.gets).hasValue(3);
    assertThat(auth.up(first.url())).isTrue();
    assertThat(login("after")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(first.gets).hasValue(4);
    assertThat(second.gets).hasValue(before);
  }

  @Test
  void theReadinessCheckShouldProbeABackedOffUrlInsteadOfALogin() throws Exception {
    assertThat(login("user0")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(auth.up(first.url())).isFalse();
    // Within the back-off, readiness asks the live URL only.
    Future<Void> ready = auth.ready();
    ready.await(5, TimeUnit.SECONDS);
    assertThat(ready.succeeded()).isTrue();
    assertThat(first.heads).hasValue(0);
    assertThat(second.heads).hasValue(1);

    first.hung = false;
    pass(BACKOFF);
    ready = auth.ready();
    ready.await(5, TimeUnit.SECONDS);
    assertThat(ready.succeeded()).isTrue();
    assertThat(first.heads).hasValue(1);
    assertThat(auth.up(first.url())).isTrue();
    // So the next login goes to the first URL at once, and no login paid for the probe.
    int before = second.gets.get();
    assertThat(login("user1")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(first.gets).hasValue(2);
    assertThat(second.gets).hasValue(before);
  }

  @Test
  void theReadinessCheckShouldAlsoProbeDueUrlsAfterTheOneThatAnswered() throws Exception {
    second.hung = true;
    assertThat(login("user0")).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(auth.up(first.url())).isFalse();
    assertThat(auth.up(second.url())).isFalse();
    first.hung = false;
    second.hung = false;
    pass(BACKOFF);
    Future<Void> ready = auth.ready();
    ready.await(5, TimeUnit.SECONDS);
    assertThat(ready.succeeded()).isTrue();
    assertThat(auth.up(first.url())).isTrue();
    // Readiness needed the first only; the second, due too, is probed beside it, so that its
    // state (and postern_auth_service_up) follows the service though no login reaches it.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
        .until(() -> auth.up(second.url()));
    assertThat(second.heads).hasValue(1);
  }
}
