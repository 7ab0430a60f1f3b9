package io.postern.config;

/**
 * {@code auth.throttle.store}: where the login penalty is kept, this instance's memory or a
 * Redis (Valkey) shared by every instance.
 */
public record ThrottleStoreConfig(Store store, String redisUrl) {

  public static final ThrottleStoreConfig MEMORY = new ThrottleStoreConfig(Store.MEMORY, null);

  /** Where the penalty lives. */
  public enum Store {
    MEMORY,
    REDIS
  }
}
