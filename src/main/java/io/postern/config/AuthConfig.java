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
    Throttle throttle) {

  /** The auth source. */
  public enum Source {
    PASSWD_FILE,
    HTTP
  }

  /** Whether a password may cross a connection that is not (yet) TLS. */
  public enum Cleartext {
    TLS_ONLY,
    ALLOW
  }

  /**
   * nginx {@code auth_http} compatible service: URLs tried in order, each request bounded by
   * {@code timeout}; {@code ca} (PEM) verifies https URLs, null means the system's CAs.
   */
  public record Http(List<String> urls, Duration timeout, Map<String, String> headers, Path ca) {
    public Http {
      urls = List.copyOf(urls);
      headers = Map.copyOf(headers);
    }
  }

  /** Cache of auth answers; {@code maxEntries} 0 turns it off. */
  public record Cache(Duration ttl, Duration negativeTtl, long maxEntries) {}

  /**
   * The penalty for failed logins, per client address (an IPv6 /64) and per user name: the
   * answer waits {@code initialDelay}, doubling with each further failure up to
   * {@code maxDelay}; forgotten {@code forgetAfter} after the last failure; at most
   * {@code maxTracked} addresses and as many names are remembered.
   */
  public record Throttle(Duration initialDelay, Duration maxDelay, Duration forgetAfter,
      long maxTracked) {

    public static final Throttle DEFAULT = new Throttle(Duration.ofSeconds(2),
        Duration.ofSeconds(15), Duration.ofHours(1), 100_000);
  }
}
