package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.auth.ThrottleKeys;
import io.postern.config.AuthConfig;
import io.postern.config.ThrottleStoreConfig;
import io.postern.net.Addresses;
import io.postern.testing.Conversation;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * One login penalty for two Postern instances through a real {@code redis-server}: wrong
 * passwords guessed in turn at instance A and instance B are slowed as if they all hit one
 * instance, where with {@code store: memory} each instance knows only its own half. A hung
 * Redis (SIGSTOP) holds a login no longer than {@code redis-timeout}. Then Redis is stopped
 * mid-run: logins go on (a right password logs in at a real Dovecot, a wrong one is
 * still slowed by the instance's own penalty), {@code postern_throttle_store_up} says 0 and
 * each instance says so in one log line; restarted on its port, Redis is found again by itself.
 * Connections from one address spread over both instances meet one
 * {@code max-connections-per-ip}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisThrottleIT {

  private static final Duration INITIAL = Duration.ofMillis(100);
  private static final Duration MAX = Duration.ofSeconds(2);
  private static final int GUESSES = 6;
  private static final String PASSWORD = "alice-secret-1";
  private static final Duration AWAIT = Duration.ofSeconds(10);
  /** {@code limits.max-connections-per-ip}, for both instances together. */
  private static final int PER_IP = 3;

  @TempDir
  static Path dir;

  private LogCapture logs;
  private RedisServer redis;
  private DovecotServer dovecot;
  private PosternFixture a;
  private PosternFixture b;
  /** How long the guesses through Redis took, all told (ms). */
  private long sharedTotal = -1;

  @BeforeAll
  void start() throws Exception {
    logs = LogCapture.start();
    redis = RedisServer.start(dir.resolve("redis"));
    dovecot = DovecotServer.start(dir.resolve("dovecot"), Map.of("alice", PASSWORD));
    ThrottleStoreConfig store = ThrottleStoreConfig.redis(redis.url(), Duration.ofMillis(250));
    a = postern("a", store);
    b = postern("b", store);
    await().atMost(AWAIT).until(() -> storeUp(a) == 1 && storeUp(b) == 1);
  }

  @AfterAll
  void stop() throws Exception {
    for (AutoCloseable part : new AutoCloseable[] {a, b, dovecot, redis}) {
      if (part != null) {
        part.close();
      }
    }
    if (logs != null) {
      logs.stop();
    }
  }

  @Test
  @Order(1)
  void guessesSpreadOverTwoInstancesShouldBeSlowedAsIfTheyHitOne() throws Exception {
    List<Long> waits = guessInTurn(a, b, "127.0.0.2", "victim");
    // The k-th guess (from 1) waits at least initial-delay × 2^(k-2), whichever instance it hits:
    // each instance counts the failures the other one had.
    for (int k = 2; k <= GUESSES; k++) {
      long penalty = Math.min(MAX.toMillis(), INITIAL.toMillis() << (k - 2));
      assertThat(waits.get(k - 1)).as("guess %d of %s", k, waits).isGreaterThanOrEqualTo(penalty);
    }
    // B never had a failure of its own before its first guess, yet held it back.
    assertThat(logins(b, "throttled")).isEqualTo(GUESSES / 2);
    assertThat(logins(a, "throttled")).isEqualTo(GUESSES / 2 - 1);
    sharedTotal = waits.stream().mapToLong(Long::longValue).sum();

    // One count per address and per name, under hashed keys: no user name, no address in clear.
    String keys = redis.command("KEYS " + ThrottleKeys.PREFIX + "*");
    assertThat(keys.split("\n")).containsExactlyInAnyOrder(
        ThrottleKeys.address("127.0.0.2"), ThrottleKeys.user("victim"));
    assertThat(keys).doesNotContain("victim").doesNotContain("127.0.0");
    await().atMost(AWAIT).untilAsserted(() ->
        assertThat(redis.command("GET " + ThrottleKeys.user("victim")))
            .isEqualTo(Integer.toString(GUESSES)));
    String ttl = redis.command("PTTL " + ThrottleKeys.user("victim"));
    assertThat(Long.parseLong(ttl.substring(1))).isPositive()
        .isLessThanOrEqualTo(Duration.ofHours(1).toMillis());
  }

  @Test
  @Order(2)
  void theSameGuessesWithMemoryStoresShouldCostHalfAsMuch() throws Exception {
    assertThat(sharedTotal).as("the shared run went first").isPositive();
    try (PosternFixture c = postern("c", ThrottleStoreConfig.MEMORY);
        PosternFixture d = postern("d", ThrottleStoreConfig.MEMORY)) {
      List<Long> waits = guessInTurn(c, d, "127.0.0.2", "victim");
      // D does not know C's failures: its first guess is answered at once, as a plain failure.
      assertThat(logins(d, "failure")).isEqualTo(1);
      assertThat(logins(d, "throttled")).isEqualTo(GUESSES / 2 - 1);
      assertThat(logins(c, "throttled")).isEqualTo(GUESSES / 2 - 1);
      // Each instance doubled from its own three failures only: 0+0+100+100+200+200 ms against
      // 0+100+200+400+800+1600 ms through Redis.
      long memoryTotal = waits.stream().mapToLong(Long::longValue).sum();
      assertThat(memoryTotal).as("memory %s vs shared %s ms", waits, sharedTotal)
          .isLessThan(sharedTotal);
    }
  }

  @Test
  @Order(3)
  void connectionsFromOneAddressSpreadOverTwoInstancesShouldMeetOneLimit() throws Exception {
    String from = "127.0.0.7";
    String key = ThrottleKeys.connections(Addresses.subscriberKey(InetAddress.getByName(from)));
    // Both instances have their heartbeat in Redis: they count there.
    await().atMost(AWAIT).until(() -> redis.command("KEYS " + ThrottleKeys.CONNECTIONS
        + "instance:*").split("\n").length >= 2);
    double refusedBefore = refused(a) + refused(b);
    List<Conversation> open = new ArrayList<>();
    try {
      // A holds two, B one: each below max-connections-per-ip on its own, together at it.
      open.add(greeted(a, from));
      open.add(greeted(b, from));
      open.add(greeted(a, from));
      for (PosternFixture next : List.of(b, a)) {
        try (Conversation c = MailClient.plainFrom(from, next.port("imap"), next.tls())) {
          assertThat(c.readLine())
              .isEqualTo("* BYE [UNAVAILABLE] Too many connections from your address.");
          assertThat(c.closedByPeer(5000)).isTrue();
        }
      }
      assertThat(refused(a) + refused(b)).isEqualTo(refusedBefore + 2);

      // B's ends: its place is given back in Redis, and a new one is admitted.
      open.remove(1).close();
      await().atMost(AWAIT).until(() -> counted(key) == 2);
      open.add(greeted(b, from));
    } finally {
      for (Conversation c : open) {
        c.close();
      }
    }
    // Every connection gave its place back: nothing is left in Redis.
    await().atMost(AWAIT).until(() -> redis.command("EXISTS " + key).equals(":0"));
  }

  @Test
  @Order(4)
  void aRedisThatHangsShouldHoldALoginNoLongerThanItsTimeout() throws Exception {
    int downBefore = lines("is down (no answer in time)").size();
    redis.pause();
    try {
      // Asked before either instance noticed: the read of the counts is given up after 250 ms.
      Timed login = login(a, "127.0.0.6", "alice", PASSWORD);
      assertThat(login.reply()).startsWith("a OK");
      assertThat(login.millis()).isLessThan(AWAIT.toMillis() / 2);
      await().atMost(AWAIT).until(() -> storeUp(a) == 0 && storeUp(b) == 0);
      assertThat(lines("is down (no answer in time)")).hasSize(downBefore + 2);
    } finally {
      redis.resume();
    }
    await().atMost(AWAIT).until(() -> storeUp(a) == 1 && storeUp(b) == 1);
  }

  @Test
  @Order(5)
  void whenRedisStopsLoginsShouldGoOnWithTheLocalPenaltyAndRecoverByThemselves()
      throws Exception {
    double errorsBefore = MetricsReader.value(a, "postern_throttle_store_errors_total");
    int downBefore = lines("is down (").size();
    int upBefore = lines("answers again, after").size();
    redis.stop();
    await().atMost(AWAIT).until(() -> storeUp(a) == 0 && storeUp(b) == 0);
    assertThat(MetricsReader.value(a, "postern_throttle_store_errors_total"))
        .isGreaterThan(errorsBefore);

    // A right password logs in at Dovecot; a wrong one is slowed by B's own count.
    assertThat(login(a, "127.0.0.3", "alice", PASSWORD).reply()).startsWith("a OK");
    double throttled = logins(b, "throttled");
    assertThat(login(b, "127.0.0.4", "victim2", "wrong-1").reply()).startsWith("a NO");
    Timed second = login(b, "127.0.0.4", "victim2", "wrong-2");
    assertThat(second.reply()).startsWith("a NO");
    assertThat(second.millis()).isGreaterThanOrEqualTo(INITIAL.toMillis());
    assertThat(logins(b, "throttled")).isEqualTo(throttled + 1);
    // One line per instance (both run in this JVM), however many logins came meanwhile.
    List<String> down = lines("is down (");
    assertThat(down).hasSize(downBefore + 2);
    assertThat(down.subList(downBefore, down.size()))
        .allSatisfy(line -> assertThat(line).contains(redis.url()));

    redis.restart();
    await().atMost(AWAIT).until(() -> storeUp(a) == 1 && storeUp(b) == 1);
    assertThat(lines("answers again, after")).hasSize(upBefore + 2);
    assertThat(lines("is down (")).hasSize(downBefore + 2);
    // Failures are shared again: one at A is on record in the new Redis.
    assertThat(login(a, "127.0.0.5", "victim3", "wrong").reply()).startsWith("a NO");
    await().atMost(AWAIT).untilAsserted(() ->
        assertThat(redis.command("GET " + ThrottleKeys.user("victim3"))).isEqualTo("1"));
  }

  private PosternFixture postern(String name, ThrottleStoreConfig store) throws Exception {
    return PosternFixture.builder(dir.resolve(name))
        .backend(dovecot.imapPort(), dovecot.pop3Port())
        .connectionLimits(1000, PER_IP)
        .user("alice", PASSWORD)
        .throttle(new AuthConfig.Throttle(INITIAL, MAX, Duration.ofHours(1), 1000, 10, 10,
            Duration.ZERO, store))
        .start();
  }

  /** {@link #GUESSES} wrong passwords for {@code user}, at {@code first} and {@code second} in turn. */
  private List<Long> guessInTurn(PosternFixture first, PosternFixture second, String from,
      String user) throws Exception {
    List<Long> waits = new ArrayList<>();
    for (int i = 0; i < GUESSES; i++) {
      Timed t = login(i % 2 == 0 ? first : second, from, user, "wrong-" + i);
      assertThat(t.reply()).startsWith("a NO");
      waits.add(t.millis());
    }
    return waits;
  }

  /** One IMAPS login from {@code from}; the reply and how long it took in ms. */
  private record Timed(String reply, long millis) {}

  private static Timed login(PosternFixture postern, String from, String user, String password)
      throws Exception {
    try (Conversation c = MailClient.implicitTlsFrom(from, postern.port("imaps"),
        postern.tls())) {
      c.expect("* OK");
      long sent = System.nanoTime();
      c.send("a LOGIN " + user + " " + password + "\r\n");
      String reply = c.readLine();
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
      if (reply.startsWith("a OK")) {
        c.send("z LOGOUT\r\n");
        c.readUntil("z ");
      }
      return new Timed(reply, ms);
    }
  }

  private static double logins(PosternFixture postern, String result) {
    return MetricsReader.value(postern, "postern_logins_total", "protocol", "imap",
        "mechanism", "login", "result", result);
  }

  /** A plaintext IMAP connection to {@code postern} from {@code from}, greeted. */
  private static Conversation greeted(PosternFixture postern, String from) throws Exception {
    Conversation c = MailClient.plainFrom(from, postern.port("imap"), postern.tls());
    c.expect("* OK");
    return c;
  }

  /** The connections {@code key} holds in Redis, all instances together. */
  private int counted(String key) throws Exception {
    String values = redis.command("HVALS " + key);
    return values.isEmpty() ? 0
        : Arrays.stream(values.split("\n")).mapToInt(Integer::parseInt).sum();
  }

  private static double refused(PosternFixture postern) {
    return MetricsReader.value(postern, "postern_connections_rejected_total", "listener", "imap",
        "reason", "per_ip");
  }

  private static double storeUp(PosternFixture postern) {
    return MetricsReader.value(postern, "postern_throttle_store_up");
  }

  private List<String> lines(String what) {
    return logs.lines().stream()
        .filter(line -> line.contains("throttle store") && line.contains(what)).toList();
  }
}
