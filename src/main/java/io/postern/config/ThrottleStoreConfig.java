package io.postern.config;

import java.net.URI;
import java.time.Duration;

/**
 * {@code auth.throttle.store}: where the login penalty's failure counts are kept, this
 * instance's memory or a Redis (Valkey) shared by every instance. With {@code REDIS},
 * {@code redisUrl} ({@code redis://} or {@code rediss://}, perhaps with a password) names the
 * server and each call to it is given up after {@code timeout}.
 */
public record ThrottleStoreConfig(Store store, String redisUrl, Duration timeout) {

  /** Each Redis call: long enough for a loaded server nearby, short enough for a login. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(250);

  public static final ThrottleStoreConfig MEMORY =
      new ThrottleStoreConfig(Store.MEMORY, null, DEFAULT_TIMEOUT);

  /** Where the penalty lives. */
  public enum Store {
    MEMORY,
    REDIS
  }

  /** A shared store at {@code redisUrl}, calls bounded by {@code timeout}. */
  public static ThrottleStoreConfig redis(String redisUrl, Duration timeout) {
    return new ThrottleStoreConfig(Store.REDIS, redisUrl, timeout);
  }

  public boolean shared() {
    return store == Store.REDIS;
  }

  /** The URL without its password, for logs and errors. */
  public String where() {
    return where(redisUrl);
  }

  /** {@code url} without the user information (a password) it may carry. */
  public static String where(String url) {
    if (url == null) {
      return "memory";
    }
    try {
      URI uri = new URI(url);
      if (uri.getRawUserInfo() == null) {
        return url;
      }
      return new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(), null,
          null).toString();
    } catch (java.net.URISyntaxException e) {
      return "(unparsable URL)";
    }
  }

  /** Never shows the password the URL may carry. */
  @Override
  public String toString() {
    return "ThrottleStoreConfig[store=" + store + ", redis=" + where() + ", timeout=" + timeout
        + "]";
  }
}
