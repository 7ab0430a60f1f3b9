package io.postern.listener;

import io.postern.net.Addresses;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open client connections in total and per source, shared by every listener and event
 * loop. An IPv6 source is its /64: one subscriber usually holds a whole /64. The two counts are
 * taken separately because a PROXY listener learns the source only after the header, while the
 * connection already holds a descriptor from the moment it is accepted.
 */
public final class ConnectionLimits {

  private volatile int maxTotal;
  private volatile int maxPerSource;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> perSource = new ConcurrentHashMap<>();

  public ConnectionLimits(int maxTotal, int maxPerSource) {
    this.maxTotal = maxTotal;
    this.maxPerSource = maxPerSource;
  }

  /**
   * New maximums from a reloaded configuration. Connections already open keep their slots (a
   * lower maximum refuses new ones until enough have ended).
   */
  public void resize(int nextTotal, int nextPerSource) {
    this.maxTotal = nextTotal;
    this.maxPerSource = nextPerSource;
  }

  /** {@code limits.max-connections-per-ip} now. */
  public int maxPerSource() {
    return maxPerSource;
  }

  /** True if there was room for one more connection (then {@link #releaseTotal} must follow). */
  public boolean takeTotal() {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return false;
    }
    return true;
  }

  public void releaseTotal() {
    total.decrementAndGet();
  }

  /**
   * True if {@code source} had room for one more connection (then {@link #releaseSource} must
   * follow).
   */
  public boolean takeSource(InetAddress source) {
    boolean[] taken = {false};
    // compute() is atomic per key: no window where two connections both see room for one.
    perSource.compute(sourceKey(source), (key, open) -> {
      int n = open == null ? 0 : open;
      if (n >= maxPerSource) {
        return open;
      }
      taken[0] = true;
      return n + 1;
    });
    return taken[0];
  }

  public void releaseSource(InetAddress source) {
    // Removing a source at zero keeps the map as small as the set of connected sources.
    perSource.computeIfPresent(sourceKey(source), (key, open) -> open <= 1 ? null : open - 1);
  }

  /** Connections holding a slot now. */
  public int open() {
    return total.get();
  }

  /** Connections from {@code source} (its /64 for IPv6) holding a slot now. */
  public int open(InetAddress source) {
    return perSource.getOrDefault(sourceKey(source), 0);
  }

  static String sourceKey(InetAddress address) {
    return Addresses.subscriberKey(address);
  }
}
