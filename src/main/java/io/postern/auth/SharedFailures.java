package io.postern.auth;

import io.vertx.core.Future;

/**
 * Failed-login counts shared by every Postern instance (a Redis), by the keys of
 * {@link ThrottleKeys}. Every call is bounded by the store's timeout; a future that fails means
 * the store could not be asked (down, slow, or skipped while down), never that the login must
 * fail. {@link LoginThrottle} takes the larger of these counts and its own.
 */
public interface SharedFailures {

  /** Failures on record for an address (or /64) and for a user name. */
  record Counts(long address, long user) {}

  /** The counts for {@code addressKey} and {@code userKey} as the store has them. */
  Future<Counts> counts(String addressKey, String userKey);

  /** Counts one more failure for both, each forgotten {@code forget-after} after its last. */
  Future<Counts> failed(String addressKey, String userKey);

  /** A login succeeded: forgets the address's failures and, unless null, the name's. */
  void succeeded(String addressKey, String userKeyOrNull);

  /** Whether the store answered its last call (or check). */
  boolean up();

  Future<Void> close();
}
