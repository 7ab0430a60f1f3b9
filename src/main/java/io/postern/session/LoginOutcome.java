package io.postern.session;

import io.postern.backend.BackendSession;

/** How a login attempt ended. */
public sealed interface LoginOutcome {

  /** Logged in at the backend; relay next. */
  record LoggedIn(BackendSession backend) implements LoginOutcome {}

  /**
   * Not logged in. {@code text} is the reply's text, one short line of printable text safe to
   * send: the failure's own, or for {@link Failure#DISABLED} the account's reason.
   */
  record Failed(Failure failure, String text) implements LoginOutcome {

    public static Failed of(Failure failure) {
      return new Failed(failure, failure.text);
    }

    /** A password before TLS; {@code startTlsCommand} is what the client should send first. */
    public static Failed cleartextRefused(String startTlsCommand) {
      return new Failed(Failure.CLEARTEXT_REFUSED,
          Failure.CLEARTEXT_REFUSED.text.formatted(startTlsCommand));
    }
  }

  /** Failure classes; each protocol maps them to its reply and response code in one place. */
  enum Failure {
    /** Wrong user or password: counts as an attempt, answered after the failure delay. */
    BAD_CREDENTIALS("Authentication failed."),
    /** Right password, but the account may not log in: counts as an attempt. */
    DISABLED("Account disabled."),
    /** A password before TLS while cleartext is refused: counts as an attempt, never checked. */
    CLEARTEXT_REFUSED("Plaintext authentication is disabled; use %s first."),
    /**
     * A password where the auth source checks tokens only ({@code auth.source: oauth2}): never
     * checked, so no attempt.
     */
    PASSWORDS_REFUSED("Passwords are not accepted here; log in with an OAuth 2.0 token"
        + " (XOAUTH2 or OAUTHBEARER)."),
    /** Auth source or backend down or misbehaving: try again later. */
    UNAVAILABLE("Service temporarily unavailable, try again later."),
    /** The backend says the mailbox is in use. */
    IN_USE("Mailbox is in use."),
    /**
     * Too many logins at once from the client's address or for the name: a temporary failure,
     * in the protocol's words for {@link #UNAVAILABLE}. Not an attempt: a connection that keeps
     * trying costs a timer per try, where closing it would cost a new TLS handshake.
     */
    THROTTLED("Too many login attempts at once, try again later.");

    private final String text;

    Failure(String text) {
      this.text = text;
    }

    /** Counts towards {@code auth.max-attempts}: the client got the credentials wrong. */
    public boolean spendsAnAttempt() {
      return this == BAD_CREDENTIALS || this == DISABLED || this == CLEARTEXT_REFUSED;
    }
  }
}
