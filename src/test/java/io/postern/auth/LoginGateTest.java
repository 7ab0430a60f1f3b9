package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.config.Cidr;
import io.postern.config.LimitsConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The login gate on its own: logins of an address or a name with failures on record pass one at
 * a time, each a penalty after the previous answer; a failure earned while others wait counts
 * for them; the in-flight bounds refuse; a client that leaves gives its place up.
 */
class LoginGateTest {

  private static final Duration PENALTY = Duration.ofMillis(300);
  private static final Duration ANSWER = Duration.ofMillis(100);

  private Vertx vertx;
  private LoginThrottle throttle;
  private LoginGate gate;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    throttle = new LoginThrottle(new AuthConfig.Throttle(PENALTY, PENALTY, Duration.ofHours(1),
        1000, 3, 3, Duration.ofDays(7)), limits("10.0.0.0/8"));
    gate = new LoginGate(vertx, throttle);
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static LimitsConfig limits(String trusted) {
    return new LimitsConfig(Duration.ofSeconds(60), Duration.ofMinutes(30), Duration.ofSeconds(10),
        Duration.ofSeconds(5), Duration.ofSeconds(30), 8192, 8192, 5, 1000, 100,
        List.of(Cidr.parse(trusted)), Duration.ofSeconds(1), 0, 0, 256, Duration.ZERO);
  }

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  /**
   * A login that, once admitted, fails (or succeeds) at once and is answered {@link #ANSWER}
   * later, as LoginAttempt does; completes with the admission time in ms after {@code t0}.
   */
  private Future<Long> login(InetAddress client, String user, boolean right, long t0) {
    LoginGate.Ticket ticket = gate.enter(client, user, System.nanoTime());
    Promise<Long> done = Promise.promise();
    ticket.admitted().onComplete(ar -> {
      if (ar.failed()) {
        ticket.release();
        done.fail(ar.cause());
        return;
      }
      long at = TimeUnit.NANOSECONDS.toMillis(ar.result().admittedNanos() - t0);
      if (right) {
        throttle.succeeded(client, user);
      } else {
        throttle.failed(client, user);
      }
      vertx.setTimer(ANSWER.toMillis(), id -> {
        ticket.release();
        done.complete(at);
      });
    });
    return done.future();
  }

  private static List<Long> all(List<Future<Long>> logins) throws Exception {
    List<Long> at = new ArrayList<>();
    for (Future<Long> f : logins) {
      at.add(f.await(20, TimeUnit.SECONDS));
    }
    return at;
  }

  @Test
  void loginsFromAnAddressWithFailuresShouldPassOneAtATimeAPenaltyAfterTheLastAnswer()
      throws Exception {
    InetAddress client = ip("198.51.100.1");
    throttle.failed(client, "first");
    long t0 = System.nanoTime();
    List<Future<Long>> logins = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      logins.add(login(client, "user" + i, false, t0));
    }
    List<Long> at = all(logins);
    System.out.println("admitted at (ms) " + at);
    assertThat(at.get(0)).isBetween(PENALTY.toMillis() - 5, PENALTY.toMillis() + 150);
    for (int i = 1; i < at.size(); i++) {
      assertThat(at.get(i) - at.get(i - 1)).as("gap before login %d", i)
          .isBetween(ANSWER.plus(PENALTY).toMillis() - 5, ANSWER.plus(PENALTY).toMillis() + 150);
    }
    assertThat(gate.lanes()).isZero();
  }

  @Test
  void aFailureEarnedWhileOthersWaitShouldHoldThemToo() throws Exception {
    // Penalty 100 ms after one failure, 400 ms after three.
    LoginThrottle doubling = new LoginThrottle(new AuthConfig.Throttle(Duration.ofMillis(100),
        Duration.ofMillis(400), Duration.ofHours(1), 1000, 3, 3, Duration.ZERO),
        limits("10.0.0.0/8"));
    LoginGate gate = new LoginGate(vertx, doubling);
    InetAddress client = ip("198.51.100.2");
    doubling.failed(client, "x");
    long t0 = System.nanoTime();
    LoginGate.Ticket first = gate.enter(client, "a", t0);
    LoginGate.Ticket second = gate.enter(client, "b", t0);
    long firstAt = first.admitted().await(5, TimeUnit.SECONDS).admittedNanos();
    // While the second waits, the first (and a parallel connection) fail: three failures.
    doubling.failed(client, "a");
    doubling.failed(client, "y");
    // Read before release(): the gate counts the penalty from a moment inside it, and a busy
    // machine can take milliseconds to return from it.
    long released = System.nanoTime();
    first.release();
    long secondAt = second.admitted().await(5, TimeUnit.SECONDS).admittedNanos();
    second.release();
    assertThat(TimeUnit.NANOSECONDS.toMillis(firstAt - t0)).isBetween(95L, 250L);
    // Not the 100 ms it faced when it came: the 400 ms earned meanwhile, after the answer.
    assertThat(TimeUnit.NANOSECONDS.toMillis(secondAt - released)).isGreaterThanOrEqualTo(395);
  }

  @Test
  void aSuccessShouldLetTheWaitingLoginsGoAtOnce() throws Exception {
    InetAddress client = ip("198.51.100.3");
    throttle.failed(client, "someone");
    long t0 = System.nanoTime();
    Future<Long> right = login(client, "owner", true, t0);
    Future<Long> next = login(client, "other", false, t0);
    Future<Long> last = login(client, "third", false, t0);
    long rightAt = right.await(5, TimeUnit.SECONDS);
    // The success cleared the address: the next one goes when the answer is out, unpenalized.
    assertThat(next.await(5, TimeUnit.SECONDS) - rightAt).isLessThan(ANSWER.toMillis() + 80);
    assertThat(last.await(5, TimeUnit.SECONDS)).isGreaterThan(rightAt);
  }

  @Test
  void loginsBeyondTheInFlightBoundShouldBeRefused() throws Exception {
    InetAddress client = ip("198.51.100.4");
    throttle.failed(client, "x");
    long t0 = System.nanoTime();
    List<Future<Long>> admitted = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      admitted.add(login(client, "user" + i, false, t0));
    }
    LoginGate.Ticket fourth = gate.enter(client, "user4", System.nanoTime());
    assertThatThrownBy(() -> fourth.admitted().await(5, TimeUnit.SECONDS))
        .isInstanceOf(LoginGate.Refused.class)
        .hasMessage("too many logins at once from this address");
    // Per name too, across addresses.
    throttle.failed(ip("203.0.113.1"), "victim");
    for (int i = 0; i < 3; i++) {
      admitted.add(login(ip("203.0.113." + (10 + i)), "victim", false, t0));
    }
    LoginGate.Ticket another = gate.enter(ip("203.0.113.99"), "Victim", System.nanoTime());
    assertThatThrownBy(() -> another.admitted().await(5, TimeUnit.SECONDS))
        .isInstanceOf(LoginGate.Refused.class)
        .hasMessage("too many logins at once for this user");
    all(admitted);
    await().atMost(Duration.ofSeconds(5)).until(() -> gate.lanes() == 0);
  }

  @Test
  void aClientThatLeavesShouldGiveUpItsPlace() throws Exception {
    InetAddress client = ip("198.51.100.5");
    throttle.failed(client, "x");
    long t0 = System.nanoTime();
    Future<Long> first = login(client, "a", false, t0);
    LoginGate.Ticket leaving = gate.enter(client, "b", System.nanoTime());
    Future<Long> third = login(client, "c", false, t0);
    leaving.cancel();
    assertThatThrownBy(() -> leaving.admitted().await(5, TimeUnit.SECONDS))
        .isInstanceOf(LoginGate.Cancelled.class);
    long firstAt = first.await(5, TimeUnit.SECONDS);
    // The third comes right after the first, not after a turn of the one that left.
    assertThat(third.await(5, TimeUnit.SECONDS) - firstAt)
        .isLessThan(ANSWER.plus(PENALTY).plus(PENALTY).toMillis());
    await().atMost(Duration.ofSeconds(5)).until(() -> gate.lanes() == 0);
  }

  @Test
  void anAddressWhereTheUserLoggedInShouldNotWaitForGuessesAtTheName() throws Exception {
    InetAddress home = ip("198.51.100.6");
    throttle.succeeded(home, "owner");
    // Three guesses at the owner's name from elsewhere hold its lane.
    for (int i = 0; i < 3; i++) {
      throttle.failed(ip("203.0.113." + (50 + i)), "owner");
    }
    long t0 = System.nanoTime();
    List<Future<Long>> guesses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      guesses.add(login(ip("203.0.113." + (60 + i)), "owner", false, t0));
    }
    Future<Long> owner = login(home, "owner", true, t0);
    assertThat(owner.await(5, TimeUnit.SECONDS)).isLessThan(100);
    all(guesses);
    // The owner's success did not clear the name's count: the guesses stayed slowed.
    assertThat(throttle.userPenalty("owner")).isEqualTo(PENALTY);
  }

  @Test
  void trustedNetworksShouldPassWithoutALane() throws Exception {
    InetAddress webmail = ip("10.1.2.3");
    long t0 = System.nanoTime();
    List<Future<Long>> logins = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      logins.add(login(webmail, "user", false, t0));
    }
    assertThat(all(logins)).allMatch(ms -> ms < 100);
    assertThat(gate.lanes()).isZero();
  }
}
