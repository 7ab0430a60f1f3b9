package io.postern.bench.load;

import java.util.Arrays;

/** Round-trip times in nanoseconds, and their percentiles in microseconds. */
final class Latencies {

  private long[] values = new long[1024];
  private int size;

  synchronized void add(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = nanos;
  }

  synchronized int count() {
    return size;
  }

  /** The {@code p}-th percentile (0-100, nearest rank) in microseconds; NaN when empty. */
  synchronized double percentileMicros(double p) {
    if (size == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(values, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * size);
    return sorted[Math.max(0, Math.min(size - 1, rank - 1))] / 1000.0;
  }
}
