package io.postern.auth;

import io.postern.backend.Route;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Secret;
import java.time.Duration;
import java.time.Instant;

/** An auth source's answer. */
public sealed interface AuthResult {

  /**
   * Log in to {@code route} as {@code backendUser} with {@code backendPassword} (a password, or
   * the client's token for the OAuth mechanisms), the way {@code mechanism} says; with
   * {@code authorizeAs}, {@code backendUser} is the backend's master user opening that user's
   * mailbox. {@code identity} is who logged in, for logs and the throttle: the name the client
   * gave unless the source named the user (a token's claim, {@code customer*master}); null for
   * the client's name. {@code validUntil} is when the credentials stop being good (a token's
   * {@code exp}): the auth cache keeps the answer no longer; null if the source does not say.
   */
  record Accepted(Route route, String backendUser, Secret backendPassword,
      BackendCredentials.Mechanism mechanism, String authorizeAs, String identity,
      Instant validUntil) implements AuthResult {

    /** A password login at the backend as the user itself or its rewritten name. */
    public Accepted(Route route, String backendUser, Secret backendPassword) {
      this(route, backendUser, backendPassword, BackendCredentials.Mechanism.PASSWORD, null, null);
    }

    /** Credentials with no end the source knows of. */
    public Accepted(Route route, String backendUser, Secret backendPassword,
        BackendCredentials.Mechanism mechanism, String authorizeAs, String identity) {
      this(route, backendUser, backendPassword, mechanism, authorizeAs, identity, null);
    }

    /** The same answer with another secret (the auth cache keeps none it can take again). */
    public Accepted withPassword(Secret password) {
      return new Accepted(route, backendUser, password, mechanism, authorizeAs, identity,
          validUntil);
    }

    /** What the backend login presents. */
    public BackendCredentials credentials() {
      return new BackendCredentials(mechanism, backendUser, backendPassword, authorizeAs);
    }

    @Override
    public String toString() {
      return "Accepted[route=" + route + ", " + credentials() + "]";
    }
  }

  /**
   * The credentials are wrong, or the account may not log in ({@code disabledReason} non-null,
   * a text meant for the user). {@code delay} is an extra delay the source asks for;
   * {@code sourceText} what the source said, for the log only (null if nothing).
   */
  record Rejected(String disabledReason, Duration delay, String sourceText) implements AuthResult {

    public Rejected(String disabledReason, Duration delay) {
      this(disabledReason, delay, null);
    }

    public static Rejected badCredentials() {
      return new Rejected(null, Duration.ZERO);
    }
  }

  /** The source cannot answer now; {@code why} is for the log only. */
  record Unavailable(String why) implements AuthResult {}
}
