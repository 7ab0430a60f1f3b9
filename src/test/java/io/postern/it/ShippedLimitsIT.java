package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.config.ConfigLoader;
import io.postern.config.PosternConfig;
import io.postern.testing.Conversation;
import io.postern.testing.LoginFlood;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.ProcessResult;
import io.postern.testing.TestHashes;
import io.postern.testing.TestTls;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar with the limits of the shipped {@code conf/postern.yaml}, unchanged, attacked
 * the way an Internet client would: silent connections, parallel password guesses, timing of
 * failed logins, a burst of TLS handshakes. Only what a fresh install has to change differs:
 * the listeners' addresses and ports and the admin port (environment overrides, port 0), the
 * certificate (at the shipped path) and the users (in the shipped passwd-file); the backend is
 * the demo mailbox ({@code --demo}). The figures the assertions use are read from that file.
 *
 * <p>Each case comes from addresses of its own (Linux routes all of 127/8 to loopback): the
 * limits keep state per address for as long as Postern runs, and one Postern serves the class.
 */
class ShippedLimitsIT {

  private static final TestTls TLS = TestTls.shared("localhost");
  /**
   * A costly hash, as sites choose for new accounts (Dovecot's own default is 64 MiB, whose
   * first checks on a cold JVM on 2 busy cores outlast the 2 s failure-delay).
   */
  private static final int ARGON2_KIB = 32_768;
  private static final int ARGON2_ITERATIONS = 3;
  private static final int TIMING_ROUNDS = 3;
  private static final int GUESSING_CONNECTIONS = 20;
  private static final Duration GUESSING_WINDOW = Duration.ofSeconds(20);

  @TempDir
  static Path dir;

  private static PosternJar postern;
  private static PosternConfig shipped;
  private static int imaps;
  private static long argon2Millis;

  @BeforeAll
  static void startTheShippedConfiguration() throws Exception {
    Path conf = Files.createDirectories(dir.resolve("conf/tls"));
    try (Stream<Path> files = Files.list(Path.of("conf"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.copy(f, conf.getParent().resolve(f.getFileName()));
      }
    }
    Files.copy(TLS.certPath(), conf.resolve("postern.crt"));
    Files.copy(TLS.keyPath(), conf.resolve("postern.key"));
    long hashing = System.nanoTime();
    String argon2 = TestHashes.argon2id("the-right-password", ARGON2_KIB, ARGON2_ITERATIONS);
    argon2Millis = (System.nanoTime() - hashing) / 1_000_000;
    // A file in migration: an old SHA512-CRYPT account first, newer ones on ARGON2ID.
    StringBuilder users = new StringBuilder(TestHashes.line("postmaster",
        TestHashes.sha512Crypt("the-right-password")) + "\n");
    for (int i = 1; i <= 2 * TIMING_ROUNDS; i++) {
      users.append(TestHashes.line("user" + i, argon2)).append('\n');
    }
    Files.writeString(conf.getParent().resolve("users.passwd"), users,
        StandardOpenOption.APPEND);

    Map<String, String> env = new HashMap<>();
    env.put("POSTERN_ADMIN__PORT", "0");
    for (int i = 0; i < 4; i++) {
      env.put("POSTERN_LISTENERS__" + i + "__PORT", "0");
      env.put("POSTERN_LISTENERS__" + i + "__ADDRESS", "127.0.0.1");
    }
    Vertx vertx = Vertx.vertx();
    try {
      shipped = ConfigLoader.load(vertx, dir.resolve("conf/postern.yaml"), env).await();
    } finally {
      vertx.close().await();
    }
    postern = PosternJar.start(dir, env, "--demo");
    imaps = postern.listenerPorts().get("imaps");
  }

  @AfterAll
  static void stop() {
    if (postern != null) {
      postern.close();
    }
  }

  /**
   * (a) Silent connections count from accept: one address gets its max-connections-per-ip, the
   * rest are reset at once, and a client from another address logs in meanwhile.
   */
  @Test
  void silentConnectionsFromOneAddressShouldHoldNoMoreThanItsSlots() throws Exception {
    int perIp = shipped.limits().maxConnectionsPerIp();
    int connections = perIp + 50;
    long start = System.nanoTime();
    try (SilentFlood flood = SilentFlood.open("127.0.10.1", imaps, connections)) {
      // A held connection stays silent until the handshake timeout, 10 s shipped: far beyond.
      int refused = flood.awaitEnded(connections - perIp, Duration.ofSeconds(5));
      double refusedWithin = (System.nanoTime() - start) / 1e9;
      long login = System.nanoTime();
      ProcessResult curl = Clients.curl(Duration.ofSeconds(30), "-k", "--interface", "127.0.10.2",
          "-u", "demo:demo", "imaps://127.0.0.1:" + imaps + "/INBOX?ALL");
      double loginSeconds = (System.nanoTime() - login) / 1e9;
      int held = flood.held();
      System.out.println(String.format("ShippedLimitsIT (a): %d silent connections from"
              + " 127.0.10.1, max-connections-per-ip %d: %d refused within %.2f s of the first"
              + " connect, %d still held after curl imaps:// from 127.0.10.2 logged in in %.2f s"
              + " (exit %d)", connections, perIp, refused, refusedWithin, held, loginSeconds,
          curl.exitCode()));
      assertThat(refused).as("refused at once").isEqualTo(connections - perIp);
      assertThat(curl.exitCode()).as(curl.toString()).isZero();
      assertThat(curl.stdout()).contains("* SEARCH 1 2 3");
      assertThat(held).as("held while the other address logged in").isEqualTo(perIp);
    }
  }

  /**
   * (b) Twenty connections from one address guessing passwords get the logins in flight, then
   * one answer per max-delay + failure-delay (README, Security / Password guessing); the rest
   * are temporary failures.
   */
  @Test
  void parallelGuessesFromOneAddressShouldGetNoMoreAnswersThanTheThrottleAllows()
      throws Exception {
    AuthConfig auth = shipped.auth();
    LoginFlood flood = LoginFlood.start(imaps, TLS, List.of("127.0.20.1"), GUESSING_CONNECTIONS,
        n -> "guess" + (n % 50));
    long end = flood.startNanos() + GUESSING_WINDOW.toNanos();
    // The measuring window, polled against its deadline.
    await().pollInterval(Duration.ofMillis(200)).atMost(GUESSING_WINDOW.plusSeconds(30))
        .until(() -> System.nanoTime() >= end);
    List<LoginFlood.Answer> answers = new ArrayList<>(flood.stop());
    answers.removeIf(a -> a.atNanos() > end);
    long wrong = count(answers, LoginFlood.Kind.WRONG);
    long temporary = count(answers, LoginFlood.Kind.TEMPORARY);
    long other = count(answers, LoginFlood.Kind.OTHER);
    int inFlight = auth.throttle().maxInFlightPerAddress();
    long period = auth.throttle().maxDelay().plus(auth.failureDelay()).toMillis();
    long bound = inFlight + GUESSING_WINDOW.toMillis() / period + 1;
    System.out.println(String.format("ShippedLimitsIT (b): %d connections from 127.0.20.1 for"
            + " %d s: %d wrong-password answers (bound %d: %d in flight, then one per %.0f s),"
            + " %d temporary failures, %d other", GUESSING_CONNECTIONS,
        GUESSING_WINDOW.toSeconds(), wrong, bound, inFlight, period / 1000.0, temporary, other));
    assertThat(wrong).as("passwords checked").isPositive().isLessThanOrEqualTo(bound);
    assertThat(temporary).as("logins over the in-flight bound").isPositive();
    assertThat(other).as("%s", answers).isZero();
  }

  private static long count(List<LoginFlood.Answer> answers, LoginFlood.Kind kind) {
    return answers.stream().filter(a -> a.kind() == kind).count();
  }

  /**
   * (c) A wrong password for an unknown name and for an ARGON2ID user (behind a SHA512-CRYPT
   * user, whose hash stood in for unknown names before) is answered failure-delay after the
   * command, the same for both. Every try comes from a fresh address at a fresh name, as a
   * prober's would, so no throttle penalty is in play.
   */
  @Test
  void failedLoginsShouldBeAnsweredAtTheFailureDelayWhetherTheUserExistsOrNot()
      throws Exception {
    List<Long> unknown = new ArrayList<>();
    List<Long> existing = new ArrayList<>();
    ExecutorService clients = Executors.newFixedThreadPool(4);
    try {
      for (int round = 0; round < TIMING_ROUNDS; round++) {
        List<Future<Long>> unknownTries = new ArrayList<>();
        List<Future<Long>> existingTries = new ArrayList<>();
        for (int j = 1; j <= 2; j++) {
          int n = 2 * round + j;
          unknownTries.add(clients.submit(failedLogin("127.0.30." + (2 * n - 1), "nobody" + n)));
          existingTries.add(clients.submit(failedLogin("127.0.30." + (2 * n), "user" + n)));
        }
        for (Future<Long> f : unknownTries) {
          unknown.add(f.get());
        }
        for (Future<Long> f : existingTries) {
          existing.add(f.get());
        }
      }
    } finally {
      clients.shutdownNow();
    }
    long delay = shipped.auth().failureDelay().toMillis();
    System.out.println(String.format("ShippedLimitsIT (c): failure-delay %d ms; wrong password,"
            + " from LOGIN to the answer: unknown user median %d ms, fastest %d %s; ARGON2ID"
            + " user (m=%d KiB, t=%d; %d ms to hash in the test JVM) median %d ms, fastest %d %s",
        delay, median(unknown), min(unknown), unknown, ARGON2_KIB, ARGON2_ITERATIONS,
        argon2Millis, median(existing), min(existing), existing));
    assertThat(unknown).allSatisfy(ms -> assertThat(ms).isGreaterThanOrEqualTo(delay));
    assertThat(existing).allSatisfy(ms -> assertThat(ms).isGreaterThanOrEqualTo(delay));
    assertThat(median(unknown)).isBetween(delay, delay + 600);
    assertThat(median(existing)).isBetween(delay, delay + 600);
    // The fastest answers, as a timing attacker compares them: load only ever adds to a time,
    // the hash's cost would show in every one of them.
    assertThat(Math.abs(min(existing) - min(unknown))).as("fastest answers apart, ms")
        .isLessThanOrEqualTo(100);
  }

  /** Milliseconds from a wrong password's LOGIN to its answer, from {@code from}. */
  private static Callable<Long> failedLogin(String from, String user) {
    return () -> {
      try (Conversation c = MailClient.implicitTlsFrom(from, imaps, TLS)) {
        c.expect("* OK");
        long sent = System.nanoTime();
        c.send("a LOGIN " + user + " wrong-password\r\n");
        String answer = c.readLine();
        long millis = (System.nanoTime() - sent) / 1_000_000;
        assertThat(answer).startsWith("a NO [AUTHENTICATIONFAILED]");
        return millis;
      }
    };
  }

  private static long min(List<Long> values) {
    return values.stream().mapToLong(Long::longValue).min().orElseThrow();
  }

  private static long median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /**
   * (d) A burst of TLS handshakes from one address: the first handshake-rate-per-ip complete,
   * then only the rate's refill; the surplus is reset at accept, and another address still
   * completes a handshake.
   */
  @Test
  void aBurstOfHandshakesFromOneAddressShouldBeCutAtTheHandshakeRate() throws Exception {
    int rate = shipped.limits().handshakeRatePerIp();
    int tries = rate + 30;
    double before = rejected("handshake_rate");
    // One client context for the burst: a new one per connection costs the test more than
    // the handshake costs Postern. Eight at a time: on a busy machine each handshake waits
    // for both processes to be scheduled, and a slow burst would stretch over the refill.
    SSLSocketFactory tls = TLS.clientContext().getSocketFactory();
    List<Callable<Boolean>> burst = new ArrayList<>();
    for (int i = 0; i < tries; i++) {
      burst.add(() -> handshake(tls, "127.0.40.1"));
    }
    ExecutorService clients = Executors.newFixedThreadPool(8);
    long start = System.nanoTime();
    int completed = 0;
    try {
      for (Future<Boolean> f : clients.invokeAll(burst)) {
        completed += f.get() ? 1 : 0;
      }
    } finally {
      clients.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long other = System.nanoTime();
    try (Conversation c = MailClient.implicitTlsFrom("127.0.40.2", imaps, TLS)) {
      c.expect("* OK");
    }
    double otherSeconds = (System.nanoTime() - other) / 1e9;
    double refusedAtAccept = rejected("handshake_rate") - before;
    // The burst, then the rate's refill (per minute) while the burst ran.
    long allowed = rate + (long) Math.ceil(seconds * rate / 60.0) + 1;
    System.out.println(String.format("ShippedLimitsIT (d): %d TLS handshakes from 127.0.40.1 in"
            + " %.2f s, handshake-rate-per-ip %d: %d completed (at most %d), %d refused, %.0f"
            + " of them counted as reason=\"handshake_rate\"; 127.0.40.2 then completed one in"
            + " %.3f s", tries, seconds, rate, completed, allowed, tries - completed,
        refusedAtAccept, otherSeconds));
    assertThat(completed).isLessThanOrEqualTo((int) allowed);
    assertThat(refusedAtAccept).as("refused at accept").isEqualTo(tries - completed);
  }

  /** Whether a TLS handshake from {@code from} completed and Postern greeted; false: reset. */
  private static boolean handshake(SSLSocketFactory tls, String from) throws IOException {
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), imaps), 10_000);
      SSLSocket handshake = (SSLSocket) tls.createSocket(socket, TLS.host(), imaps, true);
      handshake.startHandshake();
      MailClient.wrap(handshake, TLS).expect("* OK");
      return true;
    } catch (IOException refused) {
      return false;
    }
  }

  private static double rejected(String reason) {
    return MetricsReader.value(postern.adminUrl(), "postern_connections_rejected_total",
        "listener", "imaps", "reason", reason);
  }
}
