package io.postern.listener;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets a warning through at most once a minute, from any thread: what a flood can trigger on
 * every connection must not become a flood of log lines.
 */
final class EveryMinute {

  private static final long MINUTE = TimeUnit.MINUTES.toNanos(1);
  private final AtomicLong last = new AtomicLong(System.nanoTime() - MINUTE);

  /** True at most once a minute. */
  boolean due() {
    long now = System.nanoTime();
    long previous = last.get();
    return now - previous >= MINUTE && last.compareAndSet(previous, now);
  }
}
