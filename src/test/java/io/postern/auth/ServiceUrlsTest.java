package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.LogCapture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The order in which logins ask the auth service's URLs, on a clock the test moves. */
class ServiceUrlsTest {

  private static final String A = "http://a.example:9000/auth";
  private static final String B = "http://b.example:9000/auth";
  private static final Duration BACKOFF = Duration.ofSeconds(10);
  private static final Duration PROBE = Duration.ofSeconds(3);

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final ServiceUrls urls = new ServiceUrls(List.of(A, B), BACKOFF,
      Duration.ofSeconds(40), PROBE, now::get);

  private void pass(Duration d) {
    now.addAndGet(d.toNanos());
  }

  /** The URLs one login would ask, in order, taking each as a login does. */
  private List<String> asked() {
    List<String> order = urls.order();
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      if (urls.take(order.get(i)) || out.isEmpty() && i == order.size() - 1) {
        out.add(order.get(i));
      }
    }
    return out;
  }

  @Test
  void aFailedUrlShouldBeSkippedForTheBackoffThenProbedByOneLoginOnly() {
    assertThat(asked()).containsExactly(A, B);
    urls.failed(A, "refused");
    assertThat(urls.up(A)).isFalse();
    assertThat(asked()).containsExactly(B);
    pass(BACKOFF.minusMillis(1));
    assertThat(asked()).containsExactly(B);
    pass(Duration.ofMillis(1));
    // The first login after the back-off probes it; the logins meanwhile do not.
    assertThat(asked()).containsExactly(A, B);
    assertThat(asked()).containsExactly(B);
    urls.succeeded(A);
    assertThat(urls.up(A)).isTrue();
    assertThat(asked()).containsExactly(A, B);
  }

  @Test
  void eachFailedProbeShouldDoubleTheBackoffUpToTheMaximum() {
    urls.failed(A, "refused");
    long[] waits = new long[4];
    for (int i = 0; i < waits.length; i++) {
      long from = now.get();
      while (!asked().contains(A)) {
        pass(Duration.ofSeconds(1));
      }
      waits[i] = Duration.ofNanos(now.get() - from).toSeconds();
      urls.failed(A, "refused");
    }
    assertThat(waits).containsExactly(10, 20, 40, 40);
  }

  @Test
  void aProbeThatNeverReportsShouldLetAnotherLoginProbeAfterTheProbeWindow() {
    urls.failed(A, "refused");
    pass(BACKOFF);
    assertThat(asked()).containsExactly(A, B);
    pass(PROBE.minusMillis(1));
    assertThat(asked()).containsExactly(B);
    pass(Duration.ofMillis(1));
    assertThat(asked()).containsExactly(A, B);
  }

  @Test
  void whenEveryUrlIsDownALoginShouldStillAskTheOneWhoseBackoffEndsFirst() {
    urls.failed(B, "refused");
    pass(Duration.ofSeconds(1));
    urls.failed(A, "timeout");
    assertThat(asked()).containsExactly(B);
    // A failure there sends the next such login to the other one.
    urls.failed(B, "refused");
    assertThat(asked()).containsExactly(A);
    urls.succeeded(A);
    assertThat(asked()).containsExactly(A);
  }

  @Test
  void aSingleUrlShouldAlwaysBeAsked() {
    ServiceUrls one = new ServiceUrls(List.of(A), BACKOFF, BACKOFF, PROBE, now::get);
    one.failed(A, "refused");
    assertThat(one.order()).containsExactly(A);
    one.failed(A, "refused");
    assertThat(one.order()).containsExactly(A);
  }

  @Test
  void downAndBackShouldBeLoggedOnceEachNotPerLogin() {
    LogCapture logs = LogCapture.start();
    try {
      for (int i = 0; i < 5; i++) {
        urls.failed(A, "Connection refused");
        asked();
      }
      pass(BACKOFF);
      asked();
      for (int i = 0; i < 5; i++) {
        urls.succeeded(A);
      }
      assertThat(logs.lines()).filteredOn(l -> l.contains("a.example")).hasSize(2);
      assertThat(logs.lines()).anyMatch(l -> l.contains("is down (Connection refused)"))
          .anyMatch(l -> l.contains("answers again"));
    } finally {
      logs.stop();
    }
  }
}
