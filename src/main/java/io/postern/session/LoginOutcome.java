package io.postern.session;

import io.postern.backend.BackendSession;

/** How a login attempt ended. */
public sealed interface LoginOutcome {

  /** Logged in at the backend; relay next. */
  record LoggedIn(BackendSession backend) implements LoginOutcome {}

  /**
   * Not logged in; {@code userText} is set for {@link Failure#DISABLED}: the account's reason,
   * already one short line of printable text, safe to put in a reply.
   */
  record Failed(Failure failure, String userText) implements LoginOutcome {}

  /** Failure classes; each protocol maps them to its reply and response code. */
  enum Failure {
    /** Wrong user or password: counts as an attempt, answered after the failure delay. */
    BAD_CREDENTIALS,
    /** Right password, but the account may not log in. */
    DISABLED,
    /** Auth source or backend down or misbehaving: try again later. */
    UNAVAILABLE,
    /** The backend says the mailbox is in use. */
    IN_USE
  }
}
