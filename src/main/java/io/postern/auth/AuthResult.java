package io.postern.auth;

import io.postern.backend.Route;
import io.postern.credentials.Secret;
import java.time.Duration;

/** An auth source's answer. */
public sealed interface AuthResult {

  /** Log in to {@code route} as {@code backendUser} with {@code backendPassword}. */
  record Accepted(Route route, String backendUser, Secret backendPassword) implements AuthResult {}

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
