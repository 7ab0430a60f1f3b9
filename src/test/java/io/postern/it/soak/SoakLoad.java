package io.postern.it.soak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The soak's mixed load: readers (Python imaplib/poplib and curl, small and big fetches), IDLE
 * sessions, guessers and flooders, each kind from its own loopback addresses (127.0.1.x for
 * users, 127.0.2.x for guessers, 127.0.3.x for flooders, as they would come from different
 * places), running until a deadline. Every worker records what it saw in the {@link Tally}.
 */
final class SoakLoad {

  private static final int UNKNOWN_USERS = 50;

  private final SoakSettings settings;
  private final SoakAccounts accounts;
  private final SoakMail mail;
  private final RealClients clients;
  private final IdleClient idle;
  private final Flooder flooder;
  private final Tally tally;
  private final AtomicInteger guessSources = new AtomicInteger();
  private final AtomicInteger floodSources = new AtomicInteger();
  private volatile long deadline;

  SoakLoad(SoakSettings settings, SoakAccounts accounts, SoakMail mail, RealClients clients,
      IdleClient idle, Flooder flooder, Tally tally) {
    this.settings = settings;
    this.accounts = accounts;
    this.mail = mail;
    this.clients = clients;
    this.idle = idle;
    this.flooder = flooder;
    this.tally = tally;
  }

  /**
   * Every client kind once, one after the other, for each reader, idler and flood kind: what the
   * baseline is taken after, so that class loading and pools do not count as growth.
   */
  void warmUp() throws InterruptedException {
    Random random = new Random(settings.seed());
    for (SoakAccounts.Account reader : accounts.readers()) {
      int big = mail.count(reader.mailbox());
      tally.add(clients.pythonImap(read(Attempt.Role.WARMUP, reader, big, "127.0.1.1", true, "plain")));
      tally.add(clients.pythonPop3(read(Attempt.Role.WARMUP, reader, 1, "127.0.1.1", false, "user")));
      tally.add(clients.curlImap(read(Attempt.Role.WARMUP, reader, 1, "127.0.1.1", false, null)));
      tally.add(clients.curlPop3(read(Attempt.Role.WARMUP, reader, big, "127.0.1.1", true, null)));
    }
    for (SoakAccounts.Account idler : accounts.idlers()) {
      tally.add(idle.session(Attempt.Role.WARMUP, idler, "127.0.1.100", true, false, true,
          Duration.ofSeconds(1), true));
    }
    tally.add(guess(random, 0));
    for (Flooder.Kind kind : Flooder.Kind.values()) {
      tally.flood(kind, flooder.burst(kind, "127.0.3.1", random));
    }
  }

  /** Runs every worker until {@code duration} has passed; returns when all have stopped. */
  void run(Duration duration) throws InterruptedException {
    deadline = System.nanoTime() + duration.toNanos();
    List<Runnable> workers = new ArrayList<>();
    for (int i = 0; i < settings.clients(); i++) {
      int n = i;
      workers.add(() -> reader(n));
    }
    for (int i = 0; i < accounts.idlers().size(); i++) {
      int n = i;
      workers.add(() -> idler(n));
    }
    for (int i = 0; i < settings.guessers(); i++) {
      int n = i;
      workers.add(() -> guesser(n));
    }
    for (int i = 0; i < settings.flooders(); i++) {
      int n = i;
      workers.add(() -> flooder(n));
    }
    ExecutorService pool = Executors.newFixedThreadPool(workers.size());
    workers.forEach(pool::execute);
    pool.shutdown();
    // A worker finishes its client run after the deadline: at most a client timeout more.
    if (!pool.awaitTermination(duration.toSeconds() + 600, TimeUnit.SECONDS)) {
      pool.shutdownNow();
      throw new IllegalStateException("load workers did not stop");
    }
  }

  /** Every reader once over IMAP and POP3, big messages included: all must work. */
  void finalPass() {
    for (SoakAccounts.Account reader : accounts.readers()) {
      int big = mail.count(reader.mailbox());
      tally.add(clients.pythonImap(read(Attempt.Role.FINAL, reader, big, "127.0.1.1", true, "login")));
      tally.add(clients.pythonPop3(read(Attempt.Role.FINAL, reader, 1, "127.0.1.1", false, "plain")));
    }
  }

  private boolean running() {
    return System.nanoTime() - deadline < 0;
  }

  private void reader(int n) {
    Random random = new Random(settings.seed() * 101 + n);
    String source = "127.0.1." + (n + 1);
    while (running()) {
      SoakAccounts.Account a = accounts.readers().get(random.nextInt(accounts.readers().size()));
      int count = mail.count(a.mailbox());
      // A third of the fetches take the big message (several MiB), the rest a small one.
      int number = random.nextInt(3) == 0 ? count : 1 + random.nextInt(count - 1);
      boolean implicit = random.nextBoolean();
      Attempt attempt = switch (random.nextInt(4)) {
        case 0 -> clients.pythonImap(read(Attempt.Role.READER, a, number, source, implicit,
            random.nextBoolean() ? "login" : "plain"));
        case 1 -> clients.pythonPop3(read(Attempt.Role.READER, a, number, source, implicit,
            random.nextBoolean() ? "user" : "plain"));
        case 2 -> clients.curlImap(read(Attempt.Role.READER, a, number, source, implicit,
            curlMechanism(random)));
        default -> clients.curlPop3(read(Attempt.Role.READER, a, number, source, implicit,
            curlMechanism(random)));
      };
      tally.add(attempt);
      pause(random, 100, 1_000);
    }
  }

  private void idler(int n) {
    Random random = new Random(settings.seed() * 103 + n);
    SoakAccounts.Account a = accounts.idlers().get(n);
    String source = "127.0.1." + (100 + n);
    while (running()) {
      tally.add(idle.session(Attempt.Role.IDLER, a, source, random.nextBoolean(),
          random.nextBoolean(), random.nextInt(10) < 6,
          Duration.ofMillis(3_000 + random.nextInt(37_000)), random.nextInt(10) < 7));
      pause(random, 500, 3_000);
    }
  }

  private void guesser(int n) {
    Random random = new Random(settings.seed() * 107 + n);
    while (running()) {
      tally.add(guess(random, n));
      pause(random, 0, 500);
    }
  }

  private Attempt guess(Random random, int n) {
    String source = "127.0.2." + (1 + guessSources.getAndIncrement() % 8);
    String user = random.nextBoolean() ? accounts.target().login()
        : "ghost-" + random.nextInt(UNKNOWN_USERS);
    String password = "guess-" + Long.toHexString(random.nextLong());
    RealClients.Request r = new RealClients.Request(Attempt.Role.GUESSER, user, password, null,
        0, source, random.nextBoolean(), null);
    return switch ((random.nextInt(4) + n) % 4) {
      case 0 -> clients.pythonImap(r);
      case 1 -> clients.pythonPop3(r);
      case 2 -> clients.curlImap(r);
      default -> clients.curlPop3(r);
    };
  }

  private void flooder(int n) {
    Random random = new Random(settings.seed() * 109 + n);
    Flooder.Kind[] kinds = Flooder.Kind.values();
    try {
      while (running()) {
        Flooder.Kind kind = kinds[random.nextInt(kinds.length)];
        String source = "127.0.3." + (1 + floodSources.getAndIncrement() % 16);
        tally.flood(kind, flooder.burst(kind, source, random));
        pause(random, 500, 3_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static RealClients.Request read(Attempt.Role role, SoakAccounts.Account a, int number,
      String source, boolean implicit, String mechanism) {
    return new RealClients.Request(role, a.login(), a.password(), a.mailbox(), number, source,
        implicit, mechanism);
  }

  /**
   * curl's own choice (SASL PLAIN) or SASL LOGIN. (curl 7.88 has no way to the LOGIN or
   * USER/PASS commands when the server offers SASL; the Python clients use those.)
   */
  private static String curlMechanism(Random random) {
    return random.nextBoolean() ? null : "AUTH=LOGIN";
  }

  /** Think time between two runs of a worker: the load's pace, not synchronization. */
  private static void pause(Random random, int minMillis, int maxMillis) {
    try {
      Thread.sleep(minMillis + random.nextInt(maxMillis - minMillis + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
