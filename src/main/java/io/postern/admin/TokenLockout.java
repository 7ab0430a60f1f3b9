package io.postern.admin;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * Wrong admin tokens, per client address: after {@link #MAX_FAILURES} in a row an address is
 * locked out for {@link #LOCKOUT} (every token it sends is refused unread, the right one too),
 * as Stalwart locks out an address that guesses. A token of 32 random bytes is not guessed at
 * five tries a minute; this keeps a script with a stale token from hammering the file system,
 * and leaves a trace. Bounded: the oldest addresses are forgotten first.
 */
final class TokenLockout {

  static final int MAX_FAILURES = 5;
  static final Duration LOCKOUT = Duration.ofMinutes(1);
  private static final int MAX_ADDRESSES = 10_000;

  /** Failures in a row and, once locked, until when (ticker nanos). */
  private static final class Record {
    int failures;
    long lockedUntil;
  }

  private final Ticker ticker;
  private final Cache<String, Record> records;

  TokenLockout() {
    this(Ticker.systemTicker());
  }

  TokenLockout(Ticker ticker) {
    this.ticker = ticker;
    this.records = Caffeine.newBuilder()
        .ticker(ticker)
        .maximumSize(MAX_ADDRESSES)
        .expireAfterAccess(LOCKOUT.multipliedBy(10))
        .build();
  }

  /** How long {@code address} stays locked out, or zero when it may try a token. */
  synchronized Duration lockedFor(String address) {
    Record r = records.getIfPresent(address);
    if (r == null) {
      return Duration.ZERO;
    }
    long left = r.lockedUntil - ticker.read();
    return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
  }

  /** A wrong token from {@code address}; true if that locked it out. */
  synchronized boolean failed(String address) {
    Record r = records.get(address, a -> new Record());
    if (++r.failures >= MAX_FAILURES) {
      r.failures = 0;
      r.lockedUntil = ticker.read() + LOCKOUT.toNanos();
      return true;
    }
    return false;
  }

  /** The right token from {@code address}: its count starts again. */
  synchronized void succeeded(String address) {
    records.invalidate(address);
  }
}
