package io.postern.auth;

import io.vertx.core.Future;

/** Checks credentials and names the user's backend. Implementations never block the caller. */
public interface Authenticator {

  /** Never fails: problems of the source itself come back as {@link AuthResult.Unavailable}. */
  Future<AuthResult> authenticate(AuthRequest request);

  /** The {@code source} label of the auth meters: {@code passwd-file}, {@code http}, … */
  String source();

  /**
   * Whether the source can decide a login by client certificate alone (SASL EXTERNAL), without
   * a password: only then is EXTERNAL offered.
   */
  default boolean decidesExternal() {
    return false;
  }

  /** Succeeds while the source can answer logins; {@code /health/ready} asks it. */
  default Future<Void> ready() {
    return Future.succeededFuture();
  }

  /** {@code action} runs whenever the source's users change (a re-read passwd-file). */
  default void onChange(Runnable action) {
  }

  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
