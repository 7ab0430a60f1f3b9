package io.postern.listener;

import io.postern.net.Addresses;
import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open client connections in total and per source, shared by every listener and event
 * loop. An IPv6 source is its /64: one subscriber usually holds a whole /64.
 */
public final class ConnectionLimits {

  /** Why a connection was refused. */
  public enum Refusal {
    MAX_CONNECTIONS,
    PER_IP
  }

  private final int maxTotal;
  private final int maxPerSource;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> perSource = new ConcurrentHashMap<>();

  public ConnectionLimits(int maxTotal, int maxPerSource) {
    this.maxTotal = maxTotal;
    this.maxPerSource = maxPerSource;
  }

  /** Null if admitted (then {@link #release} must follow), else why not. */
  public Refusal admit(InetAddress source) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return Refusal.MAX_CONNECTIONS;
    }
    boolean[] admitted = {false};
    // compute() is atomic per key: no window where two connections both see room for one.
    perSource.compute(sourceKey(source), (key, open) -> {
      int n = open == null ? 0 : open;
      if (n >= maxPerSource) {
        return open;
      }
      admitted[0] = true;
      return n + 1;
    });
    if (!admitted[0]) {
      total.decrementAndGet();
      return Refusal.PER_IP;
    }
    return null;
  }

  public void release(InetAddress source) {
    // Removing a source at zero keeps the map as small as the set of connected sources.
    perSource.computeIfPresent(sourceKey(source), (key, open) -> open <= 1 ? null : open - 1);
    total.decrementAndGet();
  }

  public int open() {
    return total.get();
  }

  static String sourceKey(InetAddress address) {
    return Addresses.subscriberKey(address);
  }
}
