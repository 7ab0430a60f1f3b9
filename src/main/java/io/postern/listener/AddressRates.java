package io.postern.listener;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.postern.net.Addresses;
import java.net.InetAddress;
import java.time.Duration;

/**
 * How often one address (an IPv6 client: its /64) may do something, as a token bucket: up to
 * {@code perMinute} at once, then {@code perMinute} per minute. Shared by every listener and
 * event loop. A bucket left alone for a minute is full again, so it is forgotten then: the map
 * holds only the addresses seen in the last minute, and at most {@link #MAX_TRACKED} of them (a
 * spray from more /64s than that evicts the least recently seen, never exhausts memory).
 */
public final class AddressRates {

  static final int MAX_TRACKED = 100_000;
  private static final long MINUTE_NANOS = Duration.ofMinutes(1).toNanos();

  private volatile int perMinute;
  private final Ticker ticker;
  private final Cache<String, Bucket> buckets;

  /** {@code perMinute} 0 means no limit. */
  AddressRates(int perMinute) {
    this(perMinute, Ticker.systemTicker());
  }

  AddressRates(int perMinute, Ticker ticker) {
    this.perMinute = perMinute;
    this.ticker = ticker;
    this.buckets = Caffeine.newBuilder()
        .maximumSize(MAX_TRACKED)
        .expireAfterAccess(Duration.ofMinutes(1))
        .ticker(ticker)
        .build();
  }

  /** A reloaded configuration's rate; buckets already filled refill at the new rate. */
  void perMinute(int next) {
    this.perMinute = next;
  }

  /** Takes one token for {@code address}; false if its bucket is empty. */
  boolean tryTake(InetAddress address) {
    int rate = perMinute;
    if (rate == 0) {
      return true;
    }
    long now = ticker.read();
    return buckets.get(Addresses.subscriberKey(address), k -> new Bucket(rate, now))
        .tryTake(rate, now);
  }

  /** Tokens as a fraction, refilled continuously; confined by its own lock. */
  private static final class Bucket {
    private double tokens;
    private long last;

    Bucket(int capacity, long now) {
      this.tokens = capacity;
      this.last = now;
    }

    synchronized boolean tryTake(int perMinute, long now) {
      tokens = Math.min(perMinute, tokens + (double) (now - last) * perMinute / MINUTE_NANOS);
      last = now;
      if (tokens < 1) {
        return false;
      }
      tokens -= 1;
      return true;
    }
  }
}
