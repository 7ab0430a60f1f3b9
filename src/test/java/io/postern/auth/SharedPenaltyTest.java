package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.AuthConfig;
import io.postern.config.Cidr;
import io.postern.config.LimitsConfig;
import io.postern.config.ThrottleStoreConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shared store's part of the penalty, with an in-JVM store standing in for Redis (the real
 * one is in {@code RedisThrottleIT}): the names of the shared counts, and the penalty as the
 * larger of this instance's count and the store's, whatever state the store is in.
 */
class SharedPenaltyTest {

  private static final Duration INITIAL = Duration.ofSeconds(2);
  private static final Duration MAX = Duration.ofSeconds(15);

  /** Counts by {@link ThrottleKeys}, as Redis holds them; {@code down} fails every call. */
  static final class FakeStore implements SharedFailures {
    final Map<String, Long> counts = new ConcurrentHashMap<>();
    final List<String> deleted = new ArrayList<>();
    volatile boolean down;
    /** When set, reads wait for it (a slow store). */
    volatile Promise<Void> slowReads;

    @Override
    public Future<Counts> counts(String addressKey, String userKey) {
      Future<Void> go = slowReads == null ? Future.succeededFuture() : slowReads.future();
      return go.compose(v -> down ? Future.failedFuture("down")
          : Future.succeededFuture(new Counts(
              counts.getOrDefault(ThrottleKeys.address(addressKey), 0L),
              counts.getOrDefault(ThrottleKeys.user(userKey), 0L))));
    }

    @Override
    public Future<Counts> failed(String addressKey, String userKey) {
      if (down) {
        return Future.failedFuture("down");
      }
      return Future.succeededFuture(new Counts(
          counts.merge(ThrottleKeys.address(addressKey), 1L, Long::sum),
          counts.merge(ThrottleKeys.user(userKey), 1L, Long::sum)));
    }

    @Override
    public void succeeded(String addressKey, String userKeyOrNull) {
      if (!down) {
        deleted.add(ThrottleKeys.address(addressKey));
        counts.remove(ThrottleKeys.address(addressKey));
        if (userKeyOrNull != null) {
          deleted.add(ThrottleKeys.user(userKeyOrNull));
          counts.remove(ThrottleKeys.user(userKeyOrNull));
        }
      }
    }

    @Override
    public boolean up() {
      return !down;
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }

    /** Another instance counted {@code n} failures from {@code client} for {@code user}. */
    void elsewhere(InetAddress client, String user, long n) {
      counts.merge(ThrottleKeys.address(LoginThrottle.addressKey(client)), n, Long::sum);
      counts.merge(ThrottleKeys.user(LoginThrottle.userKey(user)), n, Long::sum);
    }
  }

  private static LimitsConfig limits(String... trusted) {
    List<Cidr> nets = new ArrayList<>();
    for (String t : trusted) {
      nets.add(Cidr.parse(t));
    }
    return new LimitsConfig(Duration.ofSeconds(60), Duration.ofMinutes(30), Duration.ofSeconds(10),
        Duration.ofSeconds(5), Duration.ofSeconds(30), 8192, 8192, 5, 1000, 100, nets,
        Duration.ofSeconds(1), 0, 0, 256, Duration.ZERO);
  }

  private static LoginThrottle throttle(FakeStore store, Duration rememberLogins) {
    return new LoginThrottle(new AuthConfig.Throttle(INITIAL, MAX, Duration.ofHours(1), 1000, 10,
        10, rememberLogins, ThrottleStoreConfig.redis("redis://127.0.0.1:6379",
            ThrottleStoreConfig.DEFAULT_TIMEOUT)), limits("10.0.0.0/8"), store);
  }

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  // --- the keys -----------------------------------------------------------------------------

  @Test
  void keysShouldHashTheNameAndTheAddressUnderThePrefix() throws Exception {
    String user = ThrottleKeys.user(LoginThrottle.userKey("Alice@Example.ORG"));
    String address = ThrottleKeys.address(LoginThrottle.addressKey(ip("198.51.100.7")));
    assertThat(user).matches("postern:throttle:user:[0-9a-f]{64}")
        .doesNotContainIgnoringCase("alice").doesNotContainIgnoringCase("example");
    assertThat(address).matches("postern:throttle:address:[0-9a-f]{64}")
        .doesNotContain("198.51").doesNotContain("100.7");
    // The same on every instance, case-folded like the local count; names never meet addresses.
    assertThat(ThrottleKeys.user(LoginThrottle.userKey("alice@example.org"))).isEqualTo(user);
    assertThat(ThrottleKeys.user("x").substring(ThrottleKeys.PREFIX.length() + 5))
        .isNotEqualTo(ThrottleKeys.address("x").substring(ThrottleKeys.PREFIX.length() + 8));
    assertThat(ThrottleKeys.user(LoginThrottle.userKey("bob"))).isNotEqualTo(user);
  }

  @Test
  void anIpv6ClientShouldBeCountedPerSlash64AsLocally() throws Exception {
    String one = ThrottleKeys.address(LoginThrottle.addressKey(ip("2001:db8:1:2::1")));
    assertThat(ThrottleKeys.address(LoginThrottle.addressKey(ip("2001:db8:1:2:ffff:1:2:3"))))
        .isEqualTo(one);
    assertThat(ThrottleKeys.address(LoginThrottle.addressKey(ip("2001:db8:1:3::1"))))
        .isNotEqualTo(one);
  }

  // --- the merge ----------------------------------------------------------------------------

  @Test
  void failuresCountedElsewhereShouldRaiseThePenaltyOnceRead() throws Exception {
    FakeStore store = new FakeStore();
    LoginThrottle t = throttle(store, Duration.ZERO);
    InetAddress client = ip("198.51.100.7");
    store.elsewhere(client, "amy", 3);
    assertThat(t.penalty(client, "amy")).isZero();
    t.refresh(client, "amy").await();
    assertThat(t.addressPenalty(client)).isEqualTo(INITIAL.multipliedBy(4));
    assertThat(t.userPenalty("amy")).isEqualTo(INITIAL.multipliedBy(4));
    // Another user from another address is not touched.
    assertThat(t.penalty(ip("198.51.100.8"), "ben")).isZero();
  }

  @Test
  void thePenaltyShouldBeTheLargerOfTheLocalAndTheSharedCount() throws Exception {
    FakeStore store = new FakeStore();
    LoginThrottle t = throttle(store, Duration.ZERO);
    InetAddress client = ip("198.51.100.7");
    store.down = true;
    for (int i = 0; i < 3; i++) {
      t.failed(client, "amy"); // counted here only
    }
    store.down = false;
    store.elsewhere(client, "amy", 1);
    t.refresh(client, "amy").await();
    assertThat(t.penalty(client, "amy")).isEqualTo(INITIAL.multipliedBy(4));
    // The store's answer to a failure raises the copy: 1 elsewhere + 1 here = 2 < 4 local.
    t.failed(client, "amy");
    assertThat(t.penalty(client, "amy")).isEqualTo(MAX);
    store.elsewhere(client, "amy", 10);
    t.refresh(client, "amy").await();
    assertThat(t.penalty(client, "amy")).isEqualTo(MAX);
  }

  @Test
  void aStoreThatIsDownShouldLeaveThisInstancesPenaltyAndTheLastCountsRead() throws Exception {
    FakeStore store = new FakeStore();
    LoginThrottle t = throttle(store, Duration.ZERO);
    InetAddress client = ip("198.51.100.7");
    store.elsewhere(client, "amy", 2);
    t.refresh(client, "amy").await();
    store.down = true;
    Future<Void> read = t.refresh(client, "amy");
    assertThat(read.succeeded()).as("a failed read never fails the login").isTrue();
    assertThat(t.penalty(client, "amy")).isEqualTo(INITIAL.multipliedBy(2));
    t.failed(client, "ben");
    t.failed(client, "ben");
    t.failed(client, "ben");
    assertThat(t.userPenalty("ben")).isEqualTo(INITIAL.multipliedBy(4));
  }

  @Test
  void aSuccessShouldClearTheSharedCountsUnlessTheAddressIsKnownForTheName() throws Exception {
    FakeStore store = new FakeStore();
    LoginThrottle t = throttle(store, Duration.ofDays(7));
    InetAddress client = ip("198.51.100.7");
    t.failed(client, "amy");
    t.failed(client, "amy");
    assertThat(store.counts).containsValues(2L, 2L).hasSize(2);
    t.succeeded(client, "amy");
    assertThat(store.counts).isEmpty();
    assertThat(t.penalty(client, "amy")).isZero();
    // From now on amy's address is known: a success there leaves the name's guesses counted.
    store.elsewhere(ip("203.0.113.9"), "amy", 3);
    t.refresh(client, "amy").await();
    store.deleted.clear();
    t.succeeded(client, "amy");
    assertThat(store.deleted).containsExactly(
        ThrottleKeys.address(LoginThrottle.addressKey(client)));
    assertThat(t.userPenalty("amy")).isEqualTo(INITIAL.multipliedBy(4));
  }

  @Test
  void trustedClientsShouldNotBeCountedButTheirSuccessClearsTheName() throws Exception {
    FakeStore store = new FakeStore();
    LoginThrottle t = throttle(store, Duration.ZERO);
    InetAddress webmail = ip("10.1.2.3");
    t.failed(webmail, "amy");
    t.refresh(webmail, "amy").await();
    assertThat(store.counts).isEmpty();
    // As with the local count: amy logging in through the webmail clears the guesses at her.
    store.elsewhere(ip("198.51.100.7"), "amy", 3);
    t.succeeded(webmail, "amy");
    assertThat(store.counts).containsOnlyKeys(
        ThrottleKeys.address(LoginThrottle.addressKey(ip("198.51.100.7"))));
  }

  // --- the gate -----------------------------------------------------------------------------

  @Test
  void aLoginShouldWaitForTheSharedCountsAndTheirPenalty() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      FakeStore store = new FakeStore();
      LoginThrottle t = new LoginThrottle(new AuthConfig.Throttle(Duration.ofMillis(200),
          Duration.ofSeconds(2), Duration.ofHours(1), 1000, 10, 10, Duration.ZERO,
          ThrottleStoreConfig.redis("redis://127.0.0.1:6379", Duration.ofMillis(250))),
          limits(), store);
      LoginGate gate = new LoginGate(vertx, t);
      InetAddress client = ip("198.51.100.7");
      store.elsewhere(client, "amy", 2);
      store.slowReads = Promise.promise();

      // Cancelled while the counts are read: it never joins a lane.
      LoginGate.Ticket gone = gate.enter(client, "amy", System.nanoTime());
      gone.cancel();
      assertThat(gone.admitted().toCompletionStage().toCompletableFuture()
          .handle((pass, e) -> e).get(5, TimeUnit.SECONDS))
          .isInstanceOf(LoginGate.Cancelled.class);

      long command = System.nanoTime();
      LoginGate.Ticket ticket = gate.enter(client, "amy", command);
      assertThat(ticket.admitted().isComplete()).isFalse();
      store.slowReads.complete();
      LoginGate.Pass pass = ticket.admitted().await(5, TimeUnit.SECONDS);
      // Two failures elsewhere: 400 ms after the command, though this instance saw none.
      assertThat(pass.penalized()).isTrue();
      assertThat(pass.admittedNanos() - command)
          .isGreaterThanOrEqualTo(Duration.ofMillis(400).toNanos());
      ticket.release();
      assertThat(gate.lanes()).isZero();
    } finally {
      vertx.close().await();
    }
  }
}
