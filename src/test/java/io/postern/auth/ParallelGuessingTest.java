package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.testing.LoginFlood;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parallel guessing is slowed as much as serial guessing: 50 connections from one address
 * sending wrong passwords as fast as they are answered get no more wrong-password answers than
 * one connection would (plus the first logins in flight), with the shipped configuration and
 * with tight limits; the same for many addresses guessing at one user. Each test prints the
 * answers it counted and the rate.
 */
class ParallelGuessingTest {

  private static final int CONNECTIONS = 50;

  @TempDir
  Path dir;

  private final TestTls tls = TestTls.shared("localhost");

  private PosternFixture postern(String name, Duration failureDelay, AuthConfig.Throttle throttle)
      throws Exception {
    return PosternFixture.builder(dir.resolve(name))
        .user("victim", "the-right-password")
        .failureDelay(failureDelay)
        .throttle(throttle)
        .preauthTimeout(Duration.ofSeconds(60))
        .start();
  }

  /** The flood's answers in its first {@code window}. */
  private record Tally(long wrong, long temporary, long other, Duration window) {

    double wrongPerSecond() {
      return wrong / (window.toMillis() / 1000.0);
    }
  }

  private Tally run(PosternFixture postern, List<String> from, int connections,
      IntFunction<String> user, Duration window) throws Exception {
    LoginFlood flood = LoginFlood.start(postern.port("imaps"), tls, from, connections, user);
    long end = flood.startNanos() + window.toNanos();
    // The measuring window, polled against its deadline.
    await().pollInterval(Duration.ofMillis(200)).atMost(window.plusSeconds(30))
        .until(() -> System.nanoTime() >= end);
    List<LoginFlood.Answer> answers = new ArrayList<>(flood.stop());
    answers.removeIf(a -> a.atNanos() > end);
    return new Tally(
        answers.stream().filter(a -> a.kind() == LoginFlood.Kind.WRONG).count(),
        answers.stream().filter(a -> a.kind() == LoginFlood.Kind.TEMPORARY).count(),
        answers.stream().filter(a -> a.kind() == LoginFlood.Kind.OTHER).count(),
        window);
  }

  private static void report(String what, Tally t, double serialBound) {
    System.out.println(String.format("%s: in %d s, %d wrong-password answers (%.2f/s,"
            + " %.0f/day), %d temporary failures, %d other; serial bound %.1f answers", what,
        t.window().toSeconds(),
        t.wrong(), t.wrongPerSecond(), t.wrongPerSecond() * 86_400, t.temporary(), t.other(),
        serialBound));
  }

  /**
   * What one connection can get in {@code window}: a guess per max-delay + failure-delay, and
   * the logins admitted before the first failure was on record.
   */
  private static double serialBound(Duration window, Duration failureDelay,
      AuthConfig.Throttle throttle, int inFlight) {
    double period = throttle.maxDelay().plus(failureDelay).toMillis();
    return inFlight + window.toMillis() / period;
  }

  @Test
  void fiftyConnectionsFromOneAddressShouldGuessNoFasterThanOneWithTheShippedConfiguration()
      throws Exception {
    Duration failureDelay = Duration.ofSeconds(2);
    AuthConfig.Throttle shipped = AuthConfig.Throttle.DEFAULT;
    Duration window = Duration.ofSeconds(36);
    try (PosternFixture postern = postern("shipped", failureDelay, shipped)) {
      Tally t = run(postern, List.of("127.0.0.1"), CONNECTIONS, n -> "user" + (n % 50), window);
      double bound = serialBound(window, failureDelay, shipped, shipped.maxInFlightPerAddress());
      report("shipped configuration, 50 connections from 127.0.0.1", t, bound);
      assertThat((double) t.wrong()).isLessThanOrEqualTo(bound + 1);
      assertThat(t.temporary()).as("logins over the in-flight bound: a temporary failure")
          .isPositive();
      assertThat(t.other()).isZero();
    }
  }

  @Test
  void fiftyConnectionsFromOneAddressShouldGuessNoFasterThanOneWithTightLimits()
      throws Exception {
    Duration failureDelay = Duration.ofMillis(100);
    AuthConfig.Throttle tight = new AuthConfig.Throttle(Duration.ofMillis(200),
        Duration.ofMillis(400), Duration.ofHours(1), 1000, 4, 4, Duration.ofDays(7));
    Duration window = Duration.ofSeconds(8);
    Tally serial;
    try (PosternFixture postern = postern("serial", failureDelay, tight)) {
      serial = run(postern, List.of("127.0.0.1"), 1, n -> "user" + (n % 50), window);
      report("tight limits, 1 connection from 127.0.0.1", serial, 0);
    }
    try (PosternFixture postern = postern("parallel", failureDelay, tight)) {
      Tally t = run(postern, List.of("127.0.0.1"), CONNECTIONS, n -> "user" + (n % 50), window);
      report("tight limits, 50 connections from 127.0.0.1", t, serial.wrong());
      // The parallel guesser gets the first logins in flight at once, then the serial rate.
      assertThat(t.wrong()).isLessThanOrEqualTo(
          Math.round(serial.wrong() * 1.2) + tight.maxInFlightPerAddress());
      assertThat(t.temporary()).isPositive();
      assertThat(t.other()).isZero();
    }
  }

  @Test
  void manyAddressesGuessingAtOneUserShouldGuessNoFasterThanOne() throws Exception {
    Duration failureDelay = Duration.ofMillis(100);
    AuthConfig.Throttle tight = new AuthConfig.Throttle(Duration.ofMillis(200),
        Duration.ofMillis(400), Duration.ofHours(1), 1000, 4, 4, Duration.ofDays(7));
    Duration window = Duration.ofSeconds(8);
    List<String> addresses = new ArrayList<>();
    for (int i = 1; i <= 25; i++) {
      addresses.add("127.0.1." + i);
    }
    try (PosternFixture postern = postern("distributed", failureDelay, tight)) {
      Tally t = run(postern, addresses, CONNECTIONS, n -> "victim", window);
      double bound = serialBound(window, failureDelay, tight, tight.maxInFlightPerUser());
      report("tight limits, 50 connections from 25 addresses at one user", t, bound);
      assertThat((double) t.wrong()).isLessThanOrEqualTo(bound * 1.2 + 1);
      assertThat(t.other()).isZero();
    }
  }
}
