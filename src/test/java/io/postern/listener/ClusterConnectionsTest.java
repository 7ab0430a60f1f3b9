package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.auth.RedisFailures;
import io.postern.auth.ThrottleKeys;
import io.postern.config.ThrottleStoreConfig;
import io.postern.it.RedisServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code max-connections-per-ip} across instances through a real {@code redis-server}: two
 * {@link ClusterConnections} (two instances) share one address's count; a give-back happens once;
 * an instance whose heartbeat is gone no longer counts; with the store down connections go on
 * by the local count, and what was not counted is never given back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterConnectionsTest {

  private static final Duration TIMEOUT = Duration.ofMillis(250);
  private static final Duration AWAIT = Duration.ofSeconds(10);
  private static final Duration FIRST_HEARTBEAT = Duration.ofMillis(10);
  /** The local limit never refuses here: only the count across instances does. */
  private final ConnectionLimits local = new ConnectionLimits(1000, 1000);

  @TempDir
  static Path dir;

  private Vertx vertx;
  private RedisServer redis;
  private final AtomicInteger errors = new AtomicInteger();
  private RedisFailures storeA;
  private RedisFailures storeB;
  private ClusterConnections a;
  private ClusterConnections b;
  private final List<Admission> held = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    vertx = Vertx.vertx();
    redis = RedisServer.start(dir.resolve("redis"));
    storeA = store();
    storeB = store();
    // Their first check opens their connections to Redis: then the first heartbeat may come.
    await().atMost(AWAIT).until(() -> answers(storeA) && answers(storeB));
    a = new ClusterConnections(vertx, storeA, FIRST_HEARTBEAT);
    b = new ClusterConnections(vertx, storeB, FIRST_HEARTBEAT);
    await().atMost(AWAIT).until(() -> a.ready() && b.ready());
  }

  @AfterAll
  void stop() throws Exception {
    if (a != null) {
      a.close();
      b.close();
      storeA.close().await(5, TimeUnit.SECONDS);
      storeB.close().await(5, TimeUnit.SECONDS);
    }
    vertx.close().await(5, TimeUnit.SECONDS);
    if (redis != null) {
      redis.close();
    }
  }

  @AfterEach
  void releaseAll() {
    held.forEach(Admission::release);
    held.clear();
  }

  private RedisFailures store() {
    return new RedisFailures(vertx, ThrottleStoreConfig.redis(redis.url(), TIMEOUT),
        Duration.ofHours(1), errors::incrementAndGet);
  }

  @Test
  void connectionsSpreadOverTwoInstancesShouldShareOneLimit() throws Exception {
    String address = "192.0.2.1";
    assertThat(admit(a, address, 3)).isTrue();
    assertThat(admit(b, address, 3)).isTrue();
    assertThat(admit(a, address, 3)).isTrue();
    // A holds two, B one: either refuses the fourth, though each is far below its own limit.
    assertThat(admit(b, address, 3)).isFalse();
    assertThat(admit(a, address, 3)).isFalse();
    assertThat(counts(address)).containsExactlyInAnyOrder(2, 1);

    held.get(0).release();
    held.get(0).release();
    // Given back once: one slot free, not two.
    await().atMost(AWAIT).until(() -> sum(address) == 2);
    assertThat(admit(b, address, 3)).isTrue();
    assertThat(admit(b, address, 3)).isFalse();
  }

  @Test
  void aRefusedConnectionShouldGiveNothingBackAndTheLastOneShouldLeaveNoKey() throws Exception {
    String address = "192.0.2.2";
    assertThat(admit(a, address, 1)).isTrue();
    assertThat(admit(b, address, 1)).isFalse();
    // The refused one was never counted: releasing it leaves A's count alone.
    held.get(1).release();
    assertThat(sum(address)).isEqualTo(1);
    held.get(0).release();
    await().atMost(AWAIT).until(() -> redis.command("EXISTS " + key(address)).equals(":0"));
  }

  @Test
  void theConnectionsOfAnInstanceWhoseHeartbeatIsGoneShouldNoLongerCount() throws Exception {
    String address = "192.0.2.3";
    RedisFailures storeC = store();
    await().atMost(AWAIT).until(() -> answers(storeC));
    ClusterConnections c = new ClusterConnections(vertx, storeC, FIRST_HEARTBEAT);
    try {
      await().atMost(AWAIT).until(c::ready);
      assertThat(admit(c, address, 2)).isTrue();
      assertThat(admit(c, address, 2)).isTrue();
      assertThat(admit(a, address, 2)).isFalse();
      // Only C has counted this address: the hash's one field is C's.
      String cField = redis.command("HKEYS " + key(address));
      assertThat(cField).doesNotContain("\n");
      String cHeartbeat = ClusterConnections.HEARTBEAT_PREFIX + cField;
      // C is killed: no more heartbeats, so its key runs out within its TTL (here it is
      // deleted at once, as waiting 10 s for it would only slow the test).
      c.close();
      long ttl = Long.parseLong(redis.command("PTTL " + cHeartbeat).substring(1));
      assertThat(ttl).isPositive().isLessThanOrEqualTo(
          ClusterConnections.HEARTBEAT_TTL.toMillis());
      redis.command("DEL " + cHeartbeat);
      assertThat(admit(a, address, 2)).isTrue();
      assertThat(admit(b, address, 2)).isTrue();
      assertThat(admit(a, address, 2)).isFalse();
      // C's field was swept away by the script.
      assertThat(counts(address)).containsExactlyInAnyOrder(1, 1);
    } finally {
      storeC.close().await(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void withTheStoreDownConnectionsShouldGoOnAndNothingUncountedShouldBeGivenBack()
      throws Exception {
    String address = "192.0.2.4";
    assertThat(admit(a, address, 2)).isTrue();
    int errorsBefore = errors.get();
    redis.stop();
    try {
      await().atMost(AWAIT).until(() -> !storeA.up());
      assertThat(errors.get()).isGreaterThan(errorsBefore);
      // Down: answered at once, by the local count alone.
      Future<Boolean> asked = admitting(a, address, 2);
      assertThat(asked.isComplete()).isTrue();
      assertThat(asked.result()).isTrue();
      assertThat(admit(a, address, 2)).isTrue();
    } finally {
      redis.restart();
    }
    await().atMost(AWAIT).until(() -> storeA.up() && storeB.up());
    // The store came back empty; the three open connections give back only what it holds of
    // them (nothing): no count below zero, no key left behind.
    held.forEach(Admission::release);
    assertThat(admit(b, address, 2)).isTrue();
    assertThat(admit(b, address, 2)).isTrue();
    assertThat(admit(a, address, 2)).isFalse();
    assertThat(counts(address)).containsExactly(2);
  }

  private static boolean answers(RedisFailures store) {
    try {
      store.send(Request.cmd(Command.PING)).await(5, TimeUnit.SECONDS);
      return true;
    } catch (Exception notYet) {
      return false;
    }
  }

  private boolean admit(ClusterConnections instance, String address, int max) throws Exception {
    return admitting(instance, address, max).await(5, TimeUnit.SECONDS);
  }

  private Future<Boolean> admitting(ClusterConnections instance, String address, int max)
      throws Exception {
    Admission admission = new Admission(local);
    assertThat(admission.takeSource(InetAddress.getByName(address))).isTrue();
    held.add(admission);
    return instance.admits(admission, max);
  }

  private static String key(String address) throws Exception {
    return ThrottleKeys.connections(ConnectionLimits.sourceKey(InetAddress.getByName(address)));
  }

  /** The counts per instance in the store for {@code address}. */
  private List<Integer> counts(String address) throws Exception {
    String values = redis.command("HVALS " + key(address));
    return values.isEmpty() ? List.of()
        : Arrays.stream(values.split("\n")).map(Integer::valueOf).toList();
  }

  private int sum(String address) throws Exception {
    return counts(address).stream().mapToInt(Integer::intValue).sum();
  }
}
