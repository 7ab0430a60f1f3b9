package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.auth.PasswordSchemes;
import io.postern.config.AuthConfig;
import io.postern.credentials.Secret;
import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestHashes;
import io.postern.testing.TestTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * No user enumeration by timing: a wrong password is answered as long after the command for an
 * unknown user as for users with cheap and expensive hash schemes, with the throttle off and on.
 * Each kind of user is tried {@value #TRIES} times (its own connection and client address, the
 * kinds side by side), from the client's sending of LOGIN to the reply; the test prints the
 * medians and spreads and requires the medians within {@value #BAND_MS} ms of each other.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoginTimingTest {

  // Each try waits out the failure delay (1.5 s or more): 12 keep the test near half a minute,
  // and its 10th percentile is still the second-fastest answer, not the fastest.
  private static final int TRIES = 12;
  private static final long BAND_MS = 50;

  @TempDir
  Path dir;

  private final TestTls tls = TestTls.shared("localhost");

  /** A user kind: its name and stored password (null: not in the file). */
  private record Kind(String label, String user, String stored) {}

  private final List<Kind> kinds = new ArrayList<>();
  private Duration failureDelay;

  @BeforeAll
  void hashes() {
    // Cheaper than Dovecot's defaults to keep the test short, yet a tenth of a second apart.
    kinds.add(new Kind("PLAIN", "plainuser", TestHashes.plain("right-plain")));
    kinds.add(new Kind("unknown user", "nosuchuser", null));
    kinds.add(new Kind("SHA512-CRYPT", "shauser", TestHashes.sha512Crypt("right-sha")));
    kinds.add(new Kind("BLF-CRYPT cost 10", "blfuser", TestHashes.bcrypt("right-blf", 10)));
    kinds.add(new Kind("ARGON2ID m=32MiB,t=3", "argonuser",
        TestHashes.argon2id("right-argon", 32 * 1024, 3)));
    long slowest = 0;
    for (Kind kind : kinds) {
      if (kind.stored() != null) {
        slowest = Math.max(slowest, timeOneCheck(kind.stored()));
      }
    }
    // Longer than the slowest hash even when checks queue for the two hashing threads on a busy
    // machine (a check that outlasts the delay answers late, as the README says).
    failureDelay = Duration.ofMillis(Math.min(3000, Math.max(1500, 4 * slowest + 200)));
    System.out.println(String.format("slowest hash %d ms; failure-delay %d ms", slowest,
        failureDelay.toMillis()));
  }

  private static long timeOneCheck(String stored) {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      PasswordSchemes.verify(stored, Secret.of("wrong"));
      best = Math.min(best, System.nanoTime() - start);
    }
    return TimeUnit.NANOSECONDS.toMillis(best);
  }

  private PosternFixture postern(String name, AuthConfig.Throttle throttle) throws Exception {
    PosternFixture.Builder builder = PosternFixture.builder(dir.resolve(name))
        .failureDelay(failureDelay)
        .maxAttempts(100)
        .preauthTimeout(Duration.ofMinutes(10))
        .throttle(throttle);
    for (Kind kind : kinds) {
      if (kind.stored() != null) {
        builder.passwdLine(TestHashes.line(kind.user(), kind.stored()));
      }
    }
    return builder.start();
  }

  @Test
  void aFailedLoginShouldBeAnsweredAtTheSameTimeWhateverTheUserAndScheme() throws Exception {
    try (PosternFixture postern = postern("off", new AuthConfig.Throttle(Duration.ZERO,
        Duration.ZERO, Duration.ofHours(1), 1000))) {
      Map<Kind, long[]> times = measure(postern, "throttle off");
      assertAnsweredTogether(times, failureDelay.toMillis());
    }
  }

  @Test
  void aFailedLoginShouldBeAnsweredAtTheSameTimeWithTheThrottleOn() throws Exception {
    Duration penalty = Duration.ofMillis(150);
    try (PosternFixture postern = postern("on", new AuthConfig.Throttle(penalty, penalty,
        Duration.ofHours(1), 1000, 10, 10, Duration.ofDays(7)))) {
      Map<Kind, long[]> times = measure(postern, "throttle on, penalty " + penalty.toMillis()
          + " ms");
      assertAnsweredTogether(times, failureDelay.plus(penalty).toMillis());
    }
  }

  /** Each kind on its own connection from its own address; milliseconds per try. */
  private Map<Kind, long[]> measure(PosternFixture postern, String title) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(kinds.size());
    try {
      Map<Kind, Future<long[]>> running = new LinkedHashMap<>();
      for (int k = 0; k < kinds.size(); k++) {
        Kind kind = kinds.get(k);
        String from = "127.0.0." + (20 + k);
        running.put(kind, pool.submit(() -> tries(postern, kind, from)));
      }
      Map<Kind, long[]> times = new LinkedHashMap<>();
      for (Map.Entry<Kind, Future<long[]>> e : running.entrySet()) {
        times.put(e.getKey(), e.getValue().get(3, TimeUnit.MINUTES));
      }
      print(title, times);
      return times;
    } finally {
      pool.shutdownNow();
    }
  }

  private long[] tries(PosternFixture postern, Kind kind, String from) throws Exception {
    long[] ms = new long[TRIES];
    try (Conversation c = MailClient.implicitTlsFrom(from, postern.port("imaps"), tls)) {
      c.expect("* OK");
      // One unmeasured try first: the throttle's count starts, the code paths warm up.
      for (int i = -1; i < TRIES; i++) {
        long sent = System.nanoTime();
        c.send("a" + i + " LOGIN " + kind.user() + " wrong-" + i + "\r\n");
        String reply = c.readLine();
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
        assertThat(reply).isEqualTo("a" + i + " NO [AUTHENTICATIONFAILED] Authentication failed.");
        if (i >= 0) {
          ms[i] = took;
        }
      }
    }
    return ms;
  }

  private static long percentile(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.round(p / 100.0 * (sorted.length - 1)))];
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return percentile(sorted, 50);
  }

  private void print(String title, Map<Kind, long[]> times) {
    StringBuilder table = new StringBuilder(String.format(
        "%nLogin timing, %s, failure-delay %d ms, %d tries each (ms from LOGIN to reply)%n",
        title, failureDelay.toMillis(), TRIES));
    table.append(String.format("%-22s %7s %7s %7s %7s %7s%n", "user", "min", "p10", "median",
        "p90", "max"));
    for (Map.Entry<Kind, long[]> e : times.entrySet()) {
      long[] sorted = e.getValue().clone();
      java.util.Arrays.sort(sorted);
      table.append(String.format("%-22s %7d %7d %7d %7d %7d%n", e.getKey().label(), sorted[0],
          percentile(sorted, 10), percentile(sorted, 50), percentile(sorted, 90),
          sorted[sorted.length - 1]));
    }
    long[] medians = times.values().stream().mapToLong(LoginTimingTest::median).toArray();
    table.append(String.format("spread of the medians: %d ms%n",
        java.util.Arrays.stream(medians).max().orElse(0)
            - java.util.Arrays.stream(medians).min().orElse(0)));
    System.out.print(table);
  }

  /**
   * The low tenth of each user's answer times must lie together: a timing attacker compares the
   * fastest answers, and load on the machine only ever adds time, so this holds on a busy CI
   * machine too, while a difference in hashing (the failure before: 100-400 ms) shows in it.
   */
  private static void assertAnsweredTogether(Map<Kind, long[]> times, long earliestMs) {
    long[] fast = times.values().stream().mapToLong(t -> {
      long[] sorted = t.clone();
      java.util.Arrays.sort(sorted);
      return percentile(sorted, 10);
    }).toArray();
    long low = java.util.Arrays.stream(fast).min().orElseThrow();
    long high = java.util.Arrays.stream(fast).max().orElseThrow();
    assertThat(high - low).as("spread of the 10th-percentile answer times (ms) across users: %s",
        times.keySet().stream().map(Kind::label).toList()).isLessThanOrEqualTo(BAND_MS);
    assertThat(times.values().stream().flatMapToLong(java.util.Arrays::stream).min()
        .orElseThrow()).as("no failure is answered before the failure delay")
        .isGreaterThanOrEqualTo(earliestMs);
  }
}
