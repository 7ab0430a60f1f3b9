package io.postern.auth;

import io.postern.config.AuthConfig;
import io.postern.config.Sizes;
import io.postern.credentials.Secret;
import io.postern.net.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.net.InetAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * Where password checks wait for a hashing thread, so that a flood of expensive ones (Argon2
 * takes 64 MiB and a third of a second each) can neither exhaust the heap nor hold up everybody
 * else's logins. At most {@code max-concurrent} checks run at once, their memory costs together
 * within {@code max-memory}, and at most {@code max-concurrent-per-ip} of them for one client
 * address, so another address always finds a thread free within one check. Waiting checks are
 * served in turn across client addresses (round robin, FIFO within one address); at most
 * {@code max-queue} wait, {@code max-queue-per-ip} from one address. A check beyond those
 * bounds, or one that alone needs more than {@code max-memory}, is refused at once and the login
 * gets the protocol's temporary failure.
 *
 * <p>Clients in trusted networks (a webmail speaking for many users) are queued by user name
 * instead of address. IPv6 clients count per /64.
 */
public final class HashingQueue {

  /** A check refused because the queue or its memory cannot take it. */
  public static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;

    Refused(String why) {
      super(why, null, false, false);
    }
  }

  private record Job(String client, long memory, Callable<Boolean> work, Promise<Boolean> result,
      Context context) {}

  private final AuthConfig.Hashing config;
  private final Predicate<InetAddress> trusted;
  private final WorkerExecutor workers;
  /** Waiting jobs per client key; a key is here only while it has some. */
  private final Map<String, ArrayDeque<Job>> waiting = new HashMap<>();
  /** The keys with waiting jobs, in the order their turns come. */
  private final ArrayDeque<String> turns = new ArrayDeque<>();
  private final Map<String, Integer> runningPerClient = new HashMap<>();
  private int running;
  private int queued;
  private long memoryInUse;

  /** {@code trusted} says which clients are trusted networks ({@code limits.trusted-networks}). */
  public HashingQueue(Vertx vertx, AuthConfig.Hashing config, Predicate<InetAddress> trusted) {
    this.config = config;
    this.trusted = trusted;
    // Its own threads: a hash flood never delays file reads or other blocking work.
    this.workers = vertx.createSharedWorkerExecutor("postern-hashing", config.maxConcurrent());
  }

  /**
   * Whether {@code password} matches {@code stored}, checked in turn for the client at
   * {@code clientIp} logging in as {@code user}. Fails with {@link Refused} when the queue is
   * full; the future completes on the caller's context.
   */
  public Future<Boolean> verify(String clientIp, String user, String stored, Secret password) {
    return submit(clientKey(clientIp, user), PasswordSchemes.cost(stored).memoryBytes(),
        () -> PasswordSchemes.verify(stored, password));
  }

  /** Runs {@code work}, which takes {@code memory} bytes, in {@code client}'s turn. */
  Future<Boolean> submit(String client, long memory, Callable<Boolean> work) {
    Context context = Vertx.currentContext();
    Promise<Boolean> result = Promise.promise();
    Job job = new Job(client, memory, work, result, context);
    List<Job> start;
    synchronized (this) {
      String refused = memory > config.maxMemory()
          ? "a check of this hash needs " + Sizes.format(memory)
              + ", more than auth.hashing.max-memory (" + Sizes.format(config.maxMemory()) + ")"
          : fitsNow(job) ? null
          : queued >= config.maxQueue() ? "the hashing queue is full"
          : waitingFor(client) >= config.maxQueuePerIp()
              ? "too many password checks waiting from this address" : null;
      if (refused != null) {
        return Future.failedFuture(new Refused(refused));
      }
      waiting.computeIfAbsent(client, k -> {
        turns.add(k);
        return new ArrayDeque<>();
      }).add(job);
      queued++;
      start = startable();
    }
    start.forEach(this::run);
    return result.future();
  }

  /** Checks running now (tests). */
  synchronized int running() {
    return running;
  }

  /** Checks waiting now (tests). */
  synchronized int queued() {
    return queued;
  }

  /** Memory the running checks hold, in bytes (tests). */
  synchronized long memoryInUse() {
    return memoryInUse;
  }

  public Future<Void> close() {
    return workers.close();
  }

  /**
   * Why {@code max-memory} is unsafe for a heap of {@code maxHeap} bytes, if it is: the budget
   * should leave at least half the heap to everything else.
   */
  public static Optional<String> heapProblem(AuthConfig.Hashing config, long maxHeap) {
    if (config.maxMemory() <= maxHeap / 2) {
      return Optional.empty();
    }
    return Optional.of(Sizes.format(config.maxMemory()) + " is more than half the JVM's heap ("
        + Sizes.format(maxHeap) + "): a flood of expensive hashes could run it out of memory;"
        + " lower it, or raise the heap (java -Xmx)");
  }

  /** Nobody waits, and a thread and the memory are free: no need to queue. */
  private boolean fitsNow(Job job) {
    return turns.isEmpty() && running < config.maxConcurrent()
        && runningPerClient.getOrDefault(job.client(), 0) < config.maxConcurrentPerIp()
        && memoryInUse + job.memory() <= config.maxMemory();
  }

  private int waitingFor(String client) {
    ArrayDeque<Job> jobs = waiting.get(client);
    return jobs == null ? 0 : jobs.size();
  }

  /**
   * Takes the jobs that may start now, in turn across clients. A client at its own limit lets
   * the next one go; a job that does not fit in the free memory makes everyone after it wait,
   * so that small checks cannot starve a big one.
   */
  private List<Job> startable() {
    List<Job> start = new ArrayList<>();
    int skipped = 0;
    while (running < config.maxConcurrent() && skipped < turns.size()) {
      String client = turns.peekFirst();
      if (runningPerClient.getOrDefault(client, 0) >= config.maxConcurrentPerIp()) {
        turns.addLast(turns.pollFirst());
        skipped++;
        continue;
      }
      ArrayDeque<Job> jobs = waiting.get(client);
      Job job = jobs.peekFirst();
      if (memoryInUse + job.memory() > config.maxMemory()) {
        break;
      }
      jobs.pollFirst();
      turns.pollFirst();
      if (jobs.isEmpty()) {
        waiting.remove(client);
      } else {
        turns.addLast(client);
      }
      queued--;
      running++;
      memoryInUse += job.memory();
      runningPerClient.merge(client, 1, Integer::sum);
      start.add(job);
      skipped = 0;
    }
    return start;
  }

  private void run(Job job) {
    workers.executeBlocking(job.work(), false).onComplete(ar -> {
      List<Job> next;
      synchronized (this) {
        running--;
        memoryInUse -= job.memory();
        runningPerClient.computeIfPresent(job.client(), (k, n) -> n == 1 ? null : n - 1);
        next = startable();
      }
      next.forEach(this::run);
      Runnable complete = () -> job.result().handle(ar);
      if (job.context() == null) {
        complete.run();
      } else {
        job.context().runOnContext(v -> complete.run());
      }
    });
  }

  /** A client address (IPv6: its /64); for a trusted network, the user name instead. */
  private String clientKey(String clientIp, String user) {
    InetAddress address = Addresses.literal(clientIp);
    if (address == null) {
      return "ip " + clientIp;
    }
    return trusted.test(address) ? "user " + LoginThrottle.userKey(user)
        : "ip " + Addresses.subscriberKey(address);
  }
}
