package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.credentials.Secret;
import io.postern.testing.TestHashes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hashing queue on its own, with checks that run until the test lets them finish: at most
 * max-concurrent at once and max-concurrent-per-ip per client, memory within max-memory, turns
 * across clients, and refusals when full.
 */
class HashingQueueTest {

  private static final long MIB = 1 << 20;

  /**
   * One Vert.x for the class: a check a test let finish may still hand its answer to an event
   * loop after the test ended, which must not be a closed one.
   */
  private static Vertx vertx;
  private static io.vertx.core.Context loop;
  private HashingQueue queue;
  /** Each submitted job's gate, by name; the job ends when its gate completes. */
  private final Map<String, CompletableFuture<Boolean>> gates = new ConcurrentHashMap<>();
  private final List<String> started = new CopyOnWriteArrayList<>();
  private final List<Future<Boolean>> submitted = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    loop = vertx.getOrCreateContext();
  }

  @AfterAll
  static void stopVertx() {
    vertx.close().await();
  }

  @AfterEach
  void stop() {
    gates.values().forEach(g -> g.complete(false));
    await().atMost(Duration.ofSeconds(10))
        .until(() -> submitted.stream().allMatch(Future::isComplete));
    if (queue != null) {
      queue.close().await();
    }
  }

  private void queue(int concurrent, int perIp, long memory, int maxQueue, int perIpQueue) {
    queue = new HashingQueue(vertx, new AuthConfig.Hashing(concurrent, perIp, memory, maxQueue,
        perIpQueue), address -> false);
  }

  /** A job named {@code name} for {@code client}, taking {@code memory}, held until finished. */
  private Future<Boolean> job(String client, String name, long memory) {
    CompletableFuture<Boolean> gate = new CompletableFuture<>();
    gates.put(name, gate);
    Future<Boolean> result = onLoop(() -> queue.submit(client, memory, () -> {
      started.add(name);
      return gate.get(30, TimeUnit.SECONDS);
    }));
    submitted.add(result);
    return result;
  }

  /**
   * Submits as Postern does, from an event loop of the class's Vert.x: called from the test
   * thread, Vert.x would hand the answer to a context of that thread's own, which may be gone.
   */
  private static <T> Future<T> onLoop(java.util.function.Supplier<Future<T>> call) {
    CompletableFuture<Future<T>> submitted = new CompletableFuture<>();
    loop.runOnContext(v -> submitted.complete(call.get()));
    // Waits for the submission only (what the queue holds next is as if called directly).
    return submitted.join();
  }

  private void finish(String name) {
    gates.get(name).complete(false);
  }

  private void awaitStarted(String... names) {
    await().atMost(Duration.ofSeconds(10)).until(() -> started.containsAll(List.of(names)));
  }

  @Test
  void oneClientShouldHoldAtMostItsShareAndAnotherClientShouldGetTheFreeThread() {
    queue(2, 1, 256 * MIB, 100, 10);
    job("flooder", "f1", 0);
    job("flooder", "f2", 0);
    job("flooder", "f3", 0);
    awaitStarted("f1");
    Future<Boolean> other = job("bystander", "b1", 0);
    awaitStarted("b1");
    assertThat(started).containsExactly("f1", "b1");
    finish("b1");
    assertThat(other.await()).isFalse();
    finish("f1");
    awaitStarted("f2");
    assertThat(queue.running()).isEqualTo(1);
  }

  @Test
  void waitingClientsShouldBeServedInTurnNotInArrivalOrder() {
    queue(1, 1, 256 * MIB, 100, 10);
    job("a", "a1", 0);
    awaitStarted("a1");
    job("a", "a2", 0);
    job("a", "a3", 0);
    job("b", "b1", 0);
    job("c", "c1", 0);
    job("b", "b2", 0);
    for (String name : List.of("a1", "b1", "c1", "a2", "b2", "a3")) {
      awaitStarted(name);
      finish(name);
    }
    // a had just been served, so b and c come first; then everyone in turn.
    assertThat(started).containsExactly("a1", "b1", "c1", "a2", "b2", "a3");
  }

  @Test
  void theMemoryOfRunningChecksShouldStayWithinTheBudget() {
    queue(4, 4, 100 * MIB, 100, 10);
    job("a", "big1", 64 * MIB);
    job("b", "big2", 64 * MIB);
    job("c", "small", 1 * MIB);
    awaitStarted("big1");
    // big2 does not fit next to big1; the small one behind it waits too (no starving big2).
    assertThat(queue.memoryInUse()).isEqualTo(64 * MIB);
    assertThat(queue.queued()).isEqualTo(2);
    finish("big1");
    awaitStarted("big2", "small");
    assertThat(queue.memoryInUse()).isEqualTo(65 * MIB);
  }

  @Test
  void aFullQueueShouldRefuseAtOnce() {
    queue(1, 1, 256 * MIB, 3, 2);
    job("a", "a1", 0);
    job("a", "a2", 0);
    job("a", "a3", 0);
    assertThatThrownBy(() -> job("a", "a4", 0).await())
        .isInstanceOf(HashingQueue.Refused.class)
        .hasMessage("too many password checks waiting from this address");
    job("b", "b1", 0);
    assertThatThrownBy(() -> job("c", "c1", 0).await())
        .isInstanceOf(HashingQueue.Refused.class).hasMessage("the hashing queue is full");
    assertThatThrownBy(() -> job("d", "huge", 300 * MIB).await())
        .isInstanceOf(HashingQueue.Refused.class)
        .hasMessage("a check of this hash needs 300 MiB, more than auth.hashing.max-memory"
            + " (256 MiB)");
    assertThat(queue.queued()).isEqualTo(3);
  }

  @Test
  void argon2ShouldCountItsMemoryCost() throws Exception {
    queue(2, 2, 256 * MIB, 100, 10);
    String stored = TestHashes.argon2id("pw", 16 * 1024, 1);
    assertThat(PasswordSchemes.cost(stored))
        .isEqualTo(new HashCost("ARGON2ID m=16384,t=1,p=1", 16 * MIB));
    assertThat(onLoop(() -> queue.verify("192.0.2.1", "u", stored, Secret.of("pw"))).await()).isTrue();
    assertThat(onLoop(() -> queue.verify("192.0.2.1", "u", stored, Secret.of("nope"))).await()).isFalse();
    queue.close().await();
    queue(2, 2, 8 * MIB, 100, 10);
    assertThatThrownBy(() -> onLoop(() -> queue.verify("192.0.2.1", "u", stored, Secret.of("pw"))).await())
        .isInstanceOf(HashingQueue.Refused.class);
  }

  /**
   * The start-up warning about the heap counts what the passwd-file's hashes can take at once:
   * a heap sized for the sessions (the launcher's) is no problem for crypt hashes, whatever
   * max-memory says, but is for Argon2 checks that need more than half of it.
   */
  @Test
  void theHeapWarningShouldCountOnlyMemoryTheHashesCanTake() {
    AuthConfig.Hashing hashing = new AuthConfig.Hashing(2, 1, 256 * MIB, 256, 10);
    long heap = 128 * MIB;
    long crypt = PasswordSchemes.cost("{SHA512-CRYPT}$6$salt$hash").memoryBytes();
    assertThat(HashingQueue.heapProblem(hashing, crypt, heap)).isEmpty();
    assertThat(HashingQueue.heapProblem(hashing, 16 * MIB, heap)).isEmpty();
    assertThat(HashingQueue.heapProblem(hashing, 64 * MIB, heap)).hasValue(
        "128 MiB for 2 checks at once (of 256 MiB) is more than half the JVM's heap (128 MiB):"
        + " a flood of expensive hashes could run it out of memory; lower it, or raise the heap"
        + " (POSTERN_HEAP, java -Xmx)");
  }

  /**
   * Stopping lets the running check answer before the threads go (its event loop must still be
   * there to take the answer), refuses the waiting ones and any new one.
   */
  @Test
  void closeShouldLetRunningChecksEndAndRefuseTheRest() throws Exception {
    queue(1, 1, 256 * MIB, 100, 10);
    Future<Boolean> running = job("a", "a1", 0);
    awaitStarted("a1");
    Future<Boolean> waiting = job("a", "a2", 0);
    Future<Void> closed = queue.close();
    assertThatThrownBy(() -> waiting.await(10, TimeUnit.SECONDS))
        .isInstanceOf(HashingQueue.Refused.class).hasMessage("Postern is stopping");
    assertThatThrownBy(() -> job("b", "b1", 0).await(10, TimeUnit.SECONDS))
        .isInstanceOf(HashingQueue.Refused.class).hasMessage("Postern is stopping");
    assertThat(closed.isComplete()).as("closed while a check runs").isFalse();
    finish("a1");
    assertThat(running.await(10, TimeUnit.SECONDS)).isFalse();
    closed.await(10, TimeUnit.SECONDS);
    assertThat(started).containsExactly("a1");
  }

  @Test
  void manyChecksShouldAllEndAndLeaveNothingBehind() throws Exception {
    queue(2, 1, 256 * MIB, 1000, 1000);
    List<Future<Boolean>> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      int n = i;
      all.add(onLoop(() -> queue.submit("client" + (n % 7), n % 3 * MIB, () -> true)));
    }
    Future.all(all).await(30, TimeUnit.SECONDS);
    assertThat(queue.running()).isZero();
    assertThat(queue.queued()).isZero();
    assertThat(queue.memoryInUse()).isZero();
  }
}
