package io.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Where users are checked, and the rules around login attempts. */
public record AuthConfig(
    Source source,
    Path passwdFile,
    Http http,
    Cleartext cleartext,
    Duration failureDelay,
    int maxAttempts,
    Cache cache,
    Throttle throttle,
    Hashing hashing,
    LdapConfig ldap,
    OAuth2Config oauth2,
    MasterConfig master) {

  /** Without {@code hashing}: its defaults. */
  public AuthConfig(Source source, Path passwdFile, Http http, Cleartext cleartext,
      Duration failureDelay, int maxAttempts, Cache cache, Throttle throttle) {
    this(source, passwdFile, http, cleartext, failureDelay, maxAttempts, cache, throttle,
        Hashing.DEFAULT);
  }

  /** Without the ldap and oauth2 sources' settings and without master users. */
  public AuthConfig(Source source, Path passwdFile, Http http, Cleartext cleartext,
      Duration failureDelay, int maxAttempts, Cache cache, Throttle throttle, Hashing hashing) {
    this(source, passwdFile, http, cleartext, failureDelay, maxAttempts, cache, throttle,
        hashing, null, null, null);
  }

  /** The auth source. */
  public enum Source {
    PASSWD_FILE,
    HTTP,
    LDAP,
    OAUTH2
  }

  /** Whether a password may cross a connection that is not (yet) TLS. */
  public enum Cleartext {
    TLS_ONLY,
    ALLOW
  }

  /**
   * nginx {@code auth_http} compatible service: URLs tried in order, each request bounded by
   * {@code timeout}; {@code ca} (PEM) verifies https URLs, null means the system's CAs. A URL
   * that failed is skipped for {@code urlBackoff}, doubling with each failed re-try up to
   * {@code urlBackoffMax}.
   */
  public record Http(List<String> urls, Duration timeout, Map<String, String> headers, Path ca,
      Duration urlBackoff, Duration urlBackoffMax) {

    public static final Duration DEFAULT_URL_BACKOFF = Duration.ofSeconds(10);
    public static final Duration DEFAULT_URL_BACKOFF_MAX = Duration.ofMinutes(2);

    public Http {
      urls = List.copyOf(urls);
      headers = Map.copyOf(headers);
    }

    /** Without the back-off keys: their defaults. */
    public Http(List<String> urls, Duration timeout, Map<String, String> headers, Path ca) {
      this(urls, timeout, headers, ca, DEFAULT_URL_BACKOFF, DEFAULT_URL_BACKOFF_MAX);
    }
  }

  /** Cache of auth answers; {@code maxEntries} 0 turns it off. */
  public record Cache(Duration ttl, Duration negativeTtl, long maxEntries) {}

  /**
   * The penalty for failed logins, per client address (an IPv6 /64) and per user name: the
   * answer waits {@code initialDelay}, doubling with each further failure up to
   * {@code maxDelay}; forgotten {@code forgetAfter} after the last failure; at most
   * {@code maxTracked} addresses and as many names are remembered. Once an address or a name
   * has failed, its logins are checked one at a time, each {@code penalty} after the answer to
   * the one before; at most {@code maxInFlightPerAddress} and {@code maxInFlightPerUser} of
   * them wait or run at once. An address where a user logged in is not held up by that
   * user's queue for {@code rememberLogins} (zero: never).
   */
  public record Throttle(Duration initialDelay, Duration maxDelay, Duration forgetAfter,
      long maxTracked, int maxInFlightPerAddress, int maxInFlightPerUser,
      Duration rememberLogins, ThrottleStoreConfig store) {

    public static final Throttle DEFAULT = new Throttle(Duration.ofSeconds(2),
        Duration.ofSeconds(15), Duration.ofHours(1), 100_000, 10, 10, Duration.ofDays(7),
        ThrottleStoreConfig.MEMORY);

    /** Kept in this instance's memory only. */
    public Throttle(Duration initialDelay, Duration maxDelay, Duration forgetAfter,
        long maxTracked, int maxInFlightPerAddress, int maxInFlightPerUser,
        Duration rememberLogins) {
      this(initialDelay, maxDelay, forgetAfter, maxTracked, maxInFlightPerAddress,
          maxInFlightPerUser, rememberLogins, ThrottleStoreConfig.MEMORY);
    }

    /** The penalty alone; the other limits at their defaults. */
    public Throttle(Duration initialDelay, Duration maxDelay, Duration forgetAfter,
        long maxTracked) {
      this(initialDelay, maxDelay, forgetAfter, maxTracked, DEFAULT.maxInFlightPerAddress,
          DEFAULT.maxInFlightPerUser, DEFAULT.rememberLogins);
    }
  }

  /**
   * Password hashing (passwd-file): at most {@code maxConcurrent} checks at once, at most
   * {@code maxConcurrentPerIp} of them for one client address (fairness), their memory cost
   * (Argon2's) at most {@code maxMemory} bytes together; at most {@code maxQueue} checks wait,
   * {@code maxQueuePerIp} of them from one address, served in turn across addresses.
   */
  public record Hashing(int maxConcurrent, int maxConcurrentPerIp, long maxMemory,
      int maxQueue, int maxQueuePerIp) {

    /** Sized for two cores and a heap of 1 GiB. */
    public static final Hashing DEFAULT = new Hashing(2, 1, 256L << 20, 256, 10);
  }
}
