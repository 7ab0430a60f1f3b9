package io.postern.it.soak;

import io.postern.it.DovecotServer;
import io.postern.it.NginxAuthService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Takes Dovecot and the auth_http service down and brings them back, in turns, while the load
 * runs, and remembers when each was down, so that a client failure during an outage is told from
 * one that nothing explains.
 */
final class Outages implements Runnable {

  /** What went down. */
  enum Part { BACKEND, AUTH }

  /** One outage, from the stop to the moment the part answered again (nanoTime). */
  record Window(Part part, long fromNanos, long toNanos) {
    Duration length() {
      return Duration.ofNanos(toNanos - fromNanos);
    }
  }

  // A session that breaks as the part stops is only noticed a moment later, and Postern may
  // still hold a pooled connection to a stopped auth service for a moment after it is back.
  private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(3);
  private static final int MIN_DOWN_MS = 2_000;
  private static final int MAX_DOWN_MS = 8_000;

  private final DovecotServer dovecot;
  private final NginxAuthService auth;
  private final Duration every;
  private final Random random;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final List<Window> windows = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();
  private volatile long downSince;

  Outages(DovecotServer dovecot, NginxAuthService auth, Duration every, long seed) {
    this.dovecot = dovecot;
    this.auth = auth;
    this.every = every;
    this.random = new Random(seed);
  }

  @Override
  public void run() {
    Part next = Part.BACKEND;
    try {
      while (!stop.await(pause(), TimeUnit.MILLISECONDS)) {
        outage(next, MIN_DOWN_MS + random.nextInt(MAX_DOWN_MS - MIN_DOWN_MS));
        next = next == Part.BACKEND ? Part.AUTH : Part.BACKEND;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Ends the outages; the one under way finishes with its part back up. */
  void stop() {
    stop.countDown();
  }

  /** Whether an outage (with its grace time) overlaps {@code [fromNanos, toNanos]}. */
  synchronized boolean overlaps(long fromNanos, long toNanos) {
    long since = downSince;
    if (since != 0 && toNanos - since >= 0) {
      return true;
    }
    for (Window w : windows) {
      if (toNanos - w.fromNanos() >= 0 && w.toNanos() + GRACE_NANOS - fromNanos >= 0) {
        return true;
      }
    }
    return false;
  }

  synchronized List<Window> windows() {
    return List.copyOf(windows);
  }

  /** Parts that could not be brought back (the soak cannot go on meaningfully then). */
  synchronized List<String> problems() {
    return List.copyOf(problems);
  }

  private long pause() {
    long mean = every.toMillis();
    return mean / 2 + (long) (random.nextDouble() * mean);
  }

  private void outage(Part part, int downMillis) throws InterruptedException {
    long from = System.nanoTime();
    downSince = from;
    try {
      if (part == Part.BACKEND) {
        dovecot.stop();
      } else {
        auth.stop();
      }
      // The outage's length is the point here, not synchronization.
      Thread.sleep(downMillis);
      if (part == Part.BACKEND) {
        dovecot.restart();
      } else {
        auth.restart();
      }
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      synchronized (this) {
        problems.add(part + " did not come back: " + e);
      }
    } finally {
      synchronized (this) {
        windows.add(new Window(part, from, System.nanoTime()));
        downSince = 0;
      }
    }
  }
}
