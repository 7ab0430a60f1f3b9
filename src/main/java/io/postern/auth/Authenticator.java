package io.postern.auth;

import io.vertx.core.Future;

/** Checks credentials and names the user's backend. Implementations never block the caller. */
public interface Authenticator {

  /** Never fails: problems of the source itself come back as {@link AuthResult.Unavailable}. */
  Future<AuthResult> authenticate(AuthRequest request);

  default Future<Void> close() {
    return Future.succeededFuture();
  }
}
