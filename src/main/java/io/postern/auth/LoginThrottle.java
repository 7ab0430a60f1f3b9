package io.postern.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.postern.config.AuthConfig;
import io.postern.net.Addresses;
import io.postern.config.LimitsConfig;
import io.vertx.core.Future;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The penalty for guessing passwords (Dovecot's auth penalty, per address and per user): after
 * {@code n} failed logins in a row, the answer to the next login from that client address (an
 * IPv6 client counts per /64), or for that user name, waits {@code initial-delay} doubled
 * {@code n - 1} times, at most {@code max-delay}. A login that succeeds clears both. Trusted
 * networks (a webmail, a load balancer speaking for many users) are never slowed. Other
 * addresses and other users are not affected. {@link LoginGate} applies the penalty.
 *
 * <p>It also remembers, for {@code remember-logins}, the addresses where each user logged in:
 * from there the user is not held up by guesses at the name from elsewhere. A success from such
 * an address leaves the name's count alone (it says nothing about the guesses), and a failure
 * from it forgets the address.
 *
 * <p>With a {@link SharedFailures shared store} ({@code auth.throttle.store: redis}), every
 * failure is counted there too, and before a login joins its lanes the store's counts for its
 * address and name are read into a local copy: the penalty is that of the larger of this
 * instance's count and the shared one, so guesses spread over several instances are slowed as if
 * they hit one, and a store that cannot be asked leaves this instance's own penalty in force
 * (never less). Which logins wait and how many may be in flight stays this instance's business.
 */
public final class LoginThrottle {

  /** Longest user key kept as text; a longer name is kept as its SHA-256. */
  static final int MAX_USER_KEY = 128;

  private final AuthConfig.Throttle config;
  private final LimitsConfig limits;
  private final Cache<String, AtomicInteger> byAddress;
  private final Cache<String, AtomicInteger> byUser;
  private final Cache<String, Boolean> knownAddresses;
  /** Null: this instance's counts only. */
  private final SharedFailures shared;
  /** The shared store's counts as last read or written, by the same keys as byAddress/byUser. */
  private final Cache<String, Long> sharedByAddress;
  private final Cache<String, Long> sharedByUser;

  public LoginThrottle(AuthConfig.Throttle config, LimitsConfig limits) {
    this(config, limits, null);
  }

  /** With {@code shared} (may be null) holding every instance's failure counts. */
  public LoginThrottle(AuthConfig.Throttle config, LimitsConfig limits, SharedFailures shared) {
    this.config = config;
    this.limits = limits;
    this.byAddress = tracker(config);
    this.byUser = tracker(config);
    this.shared = shared;
    this.sharedByAddress = shared == null ? null : tracker(config);
    this.sharedByUser = shared == null ? null : tracker(config);
    this.knownAddresses = config.rememberLogins().isZero() ? null : Caffeine.newBuilder()
        .maximumSize(Math.max(1, config.maxTracked()))
        .expireAfterWrite(config.rememberLogins())
        .build();
  }

  private static <V> Cache<String, V> tracker(AuthConfig.Throttle config) {
    // Bounded: a spray from many addresses evicts the oldest entries, never exhausts memory.
    return Caffeine.newBuilder()
        .maximumSize(config.maxTracked())
        .expireAfterWrite(config.forgetAfter())
        .build();
  }

  public AuthConfig.Throttle config() {
    return config;
  }

  /** The store shared by every instance, or null. */
  public SharedFailures shared() {
    return shared;
  }

  /**
   * Reads the shared counts for a login from {@code client} for {@code user} into the local
   * copy. Never fails, and completes within the store's timeout: a store that cannot answer
   * leaves the copy as it was (this instance's own counts apply in any case).
   */
  public Future<Void> refresh(InetAddress client, String user) {
    if (shared == null || exempt(client)) {
      return Future.succeededFuture();
    }
    String address = addressKey(client);
    String name = userKey(user);
    return shared.counts(address, name).transform(ar -> {
      if (ar.succeeded()) {
        copy(sharedByAddress, address, ar.result().address(), false);
        copy(sharedByUser, name, ar.result().user(), false);
      }
      return Future.<Void>succeededFuture();
    });
  }

  /** Whether logins from {@code client} are never slowed nor counted (off, or trusted). */
  public boolean exempt(InetAddress client) {
    return off() || limits.isTrusted(client);
  }

  /** How long the answer to a login from {@code client} for {@code user} must wait. */
  public Duration penalty(InetAddress client, String user) {
    if (exempt(client)) {
      return Duration.ZERO;
    }
    Duration address = addressPenalty(client);
    Duration name = userPenalty(user);
    return address.compareTo(name) >= 0 ? address : name;
  }

  /** The penalty {@code client}'s address (or /64) has earned. */
  public Duration addressPenalty(InetAddress client) {
    if (exempt(client)) {
      return Duration.ZERO;
    }
    String key = addressKey(client);
    return delay(Math.max(count(byAddress, key), sharedCount(sharedByAddress, key)));
  }

  /** The penalty the name {@code user} has earned. */
  public Duration userPenalty(String user) {
    if (off()) {
      return Duration.ZERO;
    }
    String key = userKey(user);
    return delay(Math.max(count(byUser, key), sharedCount(sharedByUser, key)));
  }

  /** Whether {@code user} logged in from {@code client}'s address within remember-logins. */
  public boolean known(InetAddress client, String user) {
    return knownAddresses != null
        && knownAddresses.getIfPresent(pairKey(client, user)) != null;
  }

  public void failed(InetAddress client, String user) {
    if (exempt(client)) {
      return;
    }
    // Re-put so the forget-after clock counts from the last failure.
    String address = addressKey(client);
    String name = userKey(user);
    byAddress.asMap().compute(address, (k, n) -> bump(n));
    byUser.asMap().compute(name, (k, n) -> bump(n));
    if (knownAddresses != null) {
      knownAddresses.invalidate(pairKey(client, user));
    }
    if (shared != null) {
      // Not waited for: the answer's time is set by the penalty, never by the store.
      shared.failed(address, name).onSuccess(counts -> {
        copy(sharedByAddress, address, counts.address(), true);
        copy(sharedByUser, name, counts.user(), true);
      });
    }
  }

  public void succeeded(InetAddress client, String user) {
    String address = addressKey(client);
    String name = userKey(user);
    boolean clearName = !known(client, user);
    byAddress.invalidate(address);
    if (clearName) {
      byUser.invalidate(name);
    }
    // As here: a success from a trusted network (a webmail) clears the name's count too.
    if (shared != null && !off()) {
      sharedByAddress.invalidate(address);
      if (clearName) {
        sharedByUser.invalidate(name);
      }
      shared.succeeded(address, clearName ? name : null);
    }
    if (knownAddresses != null && !off()) {
      knownAddresses.put(pairKey(client, user), Boolean.TRUE);
    }
  }

  /** {@code initial-delay} × 2^(failures-1), at most {@code max-delay}; none before a failure. */
  Duration delay(int failures) {
    if (failures <= 0) {
      return Duration.ZERO;
    }
    Duration d = config.initialDelay();
    for (int i = 1; i < failures && d.compareTo(config.maxDelay()) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(config.maxDelay()) > 0 ? config.maxDelay() : d;
  }

  private boolean off() {
    return config.initialDelay().isZero() || config.maxTracked() == 0;
  }

  private static AtomicInteger bump(AtomicInteger n) {
    return new AtomicInteger(n == null ? 1 : n.get() + 1);
  }

  private static int count(Cache<String, AtomicInteger> cache, String key) {
    AtomicInteger n = cache.getIfPresent(key);
    return n == null ? 0 : n.get();
  }

  private static int sharedCount(Cache<String, Long> cache, String key) {
    Long n = cache == null ? null : cache.getIfPresent(key);
    return n == null ? 0 : (int) Math.min(Integer.MAX_VALUE, n);
  }

  /**
   * Keeps the store's count for {@code key}: as read ({@code atLeast} false: a success on another
   * instance may have cleared it), or, after a failure of this instance's, never below the copy.
   */
  private static void copy(Cache<String, Long> cache, String key, long count, boolean atLeast) {
    if (count <= 0 && !atLeast) {
      cache.invalidate(key);
    } else if (count > 0) {
      cache.asMap().merge(key, count, atLeast ? Math::max : (old, now) -> now);
    }
  }

  /**
   * The name in lower case; a long one (refused names too are counted, and a line may hold
   * 8 KB) as a 64-character hash, so that the tracked names cost little memory whatever they are.
   */
  static String userKey(String user) {
    String key = user.toLowerCase(Locale.ROOT);
    if (key.length() <= MAX_USER_KEY) {
      return key;
    }
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  static String addressKey(InetAddress address) {
    return Addresses.subscriberKey(address);
  }

  private static String pairKey(InetAddress client, String user) {
    return addressKey(client) + " " + userKey(user);
  }
}
