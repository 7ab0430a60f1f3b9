package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The session line's duration reads as {@code %.3fs} did, without a Formatter per session. */
class LogLineTest {

  @Test
  void secondsHaveThreeDecimalsLikeTheFormatterGave() {
    // Durations come from System.nanoTime differences: never exactly half a millisecond.
    for (double d : new double[] {0, 0.0004, 0.00051, 0.001, 0.0099, 0.012, 0.1, 0.99949,
        0.99951, 3.073, 59.99949, 59.99951, 61.5, 3600.25, 123456.789}) {
      StringBuilder out = new StringBuilder();
      LogLine.appendSeconds(out, d);
      assertThat(out.toString()).as("%s", d).isEqualTo(String.format(Locale.ROOT, "%.3fs", d));
    }
  }

  @Test
  void sessionIdsAreTwelveHexDigitsEvenWithLeadingZeros() {
    for (int i = 0; i < 2000; i++) {
      String id = new SessionRecord(null, null, 0, null, 0, () -> { }).id();
      assertThat(id).matches("[0-9a-f]{12}");
    }
  }
}
