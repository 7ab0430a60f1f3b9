package io.postern.session;

import java.time.Duration;

/** Set once when Postern begins to stop; sessions check it before starting new work. */
public final class ShutdownSignal {

  private volatile boolean stopping;
  private volatile long begunNanos;

  public void begin() {
    begunNanos = System.nanoTime();
    stopping = true;
  }

  public boolean stopping() {
    return stopping;
  }

  /** What is left of {@code grace}, counted from {@link #begin}; all of it before that. */
  public Duration graceLeft(Duration grace) {
    if (!stopping) {
      return grace;
    }
    Duration left = grace.minusNanos(System.nanoTime() - begunNanos);
    return left.isNegative() ? Duration.ZERO : left;
  }
}
