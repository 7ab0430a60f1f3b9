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
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Where password checks wait for a hashing thread, so that a flood of expensive ones (Argon2
 * takes 64 MiB and a third of a second each) can neither exhaust the heap nor hold up everybody
 * else's logins. At most {@code max-concurrent} checks run at once, their memory costs together
 * within {@code max-memory}, and at most {@code max-concurrent-per-ip} of them for one client
 * address, so another address always finds a thread free within one check. Waiting checks are
 * served in turn across client addresses (the address served least recently first, FIFO within
 * one address); at most
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

  /** One client's checks; kept while it has some waiting or running. */
  private static final class Client {
    final ArrayDeque<Job> waiting = new ArrayDeque<>();
    int running;
    /** When this client's last check started (a sequence number); 0: never. */
    long lastStart;
  }

  private final AuthConfig.Hashing config;
  private final Predicate<InetAddress> trusted;
  private static final AtomicInteger POOLS = new AtomicInteger();
  private final WorkerExecutor workers;
  // In arrival order: among clients never served, the first to come goes first.
  private final Map<String, Client> clients = new LinkedHashMap<>();
  private long starts;
  private int running;
  private int queued;
  private long memoryInUse;
  private boolean closed;
  /** Completed when the last running check has ended, once {@link #close} is waiting for it. */
  private Promise<Void> drained;
  private Future<Void> closing;

  /** {@code trusted} says which clients are trusted networks ({@code limits.trusted-networks}). */
  public HashingQueue(Vertx vertx, AuthConfig.Hashing config, Predicate<InetAddress> trusted) {
    this.config = config;
    this.trusted = trusted;
    // Its own threads: a hash flood never delays file reads or other blocking work. Vert.x
    // shares a worker pool by name, keeping the first one's size and closing it asynchronously:
    // each queue gets a name of its own, so a new queue never gets an old one's (closing) pool.
    this.workers = vertx.createSharedWorkerExecutor("postern-hashing-" + POOLS.incrementAndGet(),
        config.maxConcurrent());
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
    String full;
    synchronized (this) {
      if (closed) {
        return Future.failedFuture(new Refused("Postern is stopping"));
      }
      if (memory > config.maxMemory()) {
        return Future.failedFuture(new Refused("a check of this hash needs "
            + Sizes.format(memory) + ", more than auth.hashing.max-memory ("
            + Sizes.format(config.maxMemory()) + ")"));
      }
      Client mine = clients.computeIfAbsent(client, k -> new Client());
      mine.waiting.addLast(job);
      queued++;
      start = startable();
      // Only a job that has to wait counts against the queue's bounds.
      full = start.contains(job) ? null
          : queued > config.maxQueue() ? "the hashing queue is full"
          : mine.waiting.size() > config.maxQueuePerIp()
              ? "too many password checks waiting from this address" : null;
      if (full != null) {
        mine.waiting.removeLast();
        queued--;
        if (mine.waiting.isEmpty() && mine.running == 0) {
          clients.remove(client);
        }
      }
    }
    start.forEach(this::run);
    return full == null ? result.future() : Future.failedFuture(new Refused(full));
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

  /**
   * Refuses new checks and those still waiting, lets the running ones end (each is one hash,
   * waited for at most {@link #DRAIN}), then stops the threads. Vert.x must still run until
   * this completes: a check that ended after its event loop had gone would have nowhere to
   * deliver its answer.
   */
  public Future<Void> close() {
    List<Job> dropped = new ArrayList<>();
    Future<Void> idle;
    synchronized (this) {
      if (closing != null) {
        return closing;
      }
      closed = true;
      for (Client c : clients.values()) {
        dropped.addAll(c.waiting);
        c.waiting.clear();
      }
      queued = 0;
      if (running == 0) {
        idle = Future.succeededFuture();
      } else {
        drained = Promise.promise();
        idle = drained.future();
      }
    }
    dropped.forEach(job -> job.result().tryFail(new Refused("Postern is stopping")));
    Future<Void> done = idle.timeout(DRAIN.toMillis(), TimeUnit.MILLISECONDS)
        .transform(ar -> workers.close());
    synchronized (this) {
      closing = done;
    }
    return done;
  }

  /** Longer than any check the budget allows takes; shutdown does not wait for more. */
  static final Duration DRAIN = Duration.ofSeconds(10);

  /**
   * Why {@code max-memory} is unsafe for a heap of {@code maxHeap} bytes, if it is: the memory
   * checks can take at once (max-concurrent checks of the costliest hash there is,
   * {@code largestCheck} bytes each, up to max-memory) should leave at least half the heap to
   * everything else. Hashes without a memory cost (crypt, PBKDF2) need none, whatever max-memory
   * says, so a heap sized for the sessions alone is enough for them.
   */
  public static Optional<String> heapProblem(AuthConfig.Hashing config, long largestCheck,
      long maxHeap) {
    long budget = Math.min(config.maxMemory(), largestCheck * config.maxConcurrent());
    if (budget <= maxHeap / 2) {
      return Optional.empty();
    }
    return Optional.of(Sizes.format(budget) + " for " + config.maxConcurrent()
        + " checks at once (of " + Sizes.format(config.maxMemory()) + ") is more than half the"
        + " JVM's heap (" + Sizes.format(maxHeap) + "): a flood of expensive hashes could run it"
        + " out of memory; lower it, or raise the heap (POSTERN_HEAP, java -Xmx)");
  }

  /**
   * Takes the jobs that may start now: each time the next job of the client served least
   * recently, among those below their own limit. When that job does not fit in the free memory,
   * nobody else's starts either, so that small checks cannot starve a big one.
   */
  private List<Job> startable() {
    List<Job> start = new ArrayList<>();
    while (running < config.maxConcurrent()) {
      String next = null;
      Client chosen = null;
      for (Map.Entry<String, Client> e : clients.entrySet()) {
        Client c = e.getValue();
        if (!c.waiting.isEmpty() && c.running < config.maxConcurrentPerIp()
            && (chosen == null || c.lastStart < chosen.lastStart)) {
          next = e.getKey();
          chosen = c;
        }
      }
      if (chosen == null || memoryInUse + chosen.waiting.peekFirst().memory()
          > config.maxMemory()) {
        break;
      }
      Job job = chosen.waiting.pollFirst();
      chosen.running++;
      chosen.lastStart = ++starts;
      queued--;
      running++;
      memoryInUse += job.memory();
      start.add(job);
    }
    return start;
  }

  private void run(Job job) {
    workers.executeBlocking(job.work(), false).onComplete(ar -> {
      List<Job> next;
      synchronized (this) {
        running--;
        memoryInUse -= job.memory();
        Client client = clients.get(job.client());
        client.running--;
        if (client.running == 0 && client.waiting.isEmpty()) {
          clients.remove(job.client());
        }
        next = startable();
        if (closed && running == 0 && drained != null) {
          drained.tryComplete();
        }
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
