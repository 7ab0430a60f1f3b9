package io.postern.auth;

import io.vertx.core.Future;

/** Checks credentials and names the user's backend. Implementations never block the caller. */
public interface Authenticator {

  /** Never fails: problems of the source itself come back as {@link AuthResult.Unavailable}. */
  Future<AuthResult> authenticate(AuthRequest request);

  /**
   * A userdb-style lookup: where {@code request}'s user lives (route, backend name, whether the
   * account is disabled) without checking a password; {@code request}'s password is ignored.
   * Accepted answers carry no backend password. Master logins use it to find the customer. A
   * source that cannot look users up answers {@link AuthResult.Unavailable}; unknown users are
   * {@link AuthResult.Rejected}.
   */
  default Future<AuthResult> lookup(AuthRequest request) {
    return Future.succeededFuture(
        new AuthResult.Unavailable("this source (" + source() + ") cannot look up users"));
  }

  /** The {@code source} label of the auth meters: {@code passwd-file}, {@code http}, … */
  String source();

  /**
   * False for a source that checks tokens only: then no password mechanism is offered (IMAP says
   * LOGINDISABLED, POP3 has no USER) and a password is refused before it is sent anywhere.
   */
  default boolean checksPasswords() {
    return true;
  }

  /** True if this source verifies OAuth 2.0 bearer tokens (XOAUTH2, OAUTHBEARER) too. */
  default boolean verifiesTokens() {
    return false;
  }

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
