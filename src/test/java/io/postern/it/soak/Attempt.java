package io.postern.it.soak;

import java.util.ArrayList;
import java.util.List;

/**
 * One client connection's run against Postern, as the client saw it: how the login went, what it
 * fetched and checked, and what it saw that must never happen.
 *
 * @param client which client (e.g. {@code python-imap}, {@code curl-pop3}, {@code java-idle})
 * @param role why it ran
 * @param outcome how it ended
 * @param logins login answers and unanswered login commands, for comparing with the metrics
 * @param fetched messages whose hash was compared with what was delivered
 * @param fetchedBytes their size
 * @param violations what must never happen (altered bytes, another account's mail, ...)
 * @param detail the client's own words when it did not end as expected
 * @param startNanos {@link System#nanoTime} at the start
 * @param endNanos and at the end
 */
record Attempt(String client, Role role, Outcome outcome, Logins logins, int fetched,
    long fetchedBytes, List<Violation> violations, String detail, long startNanos,
    long endNanos) {

  /** Why a client ran. */
  enum Role {
    /** Before the baseline is taken: everything once. */
    WARMUP,
    /** Logs in with the right password and fetches. */
    READER,
    /** Holds IMAP IDLE while its mailbox grows. */
    IDLER,
    /** Tries wrong passwords and unknown users. */
    GUESSER,
    /** After the load: every reader once more, all must work. */
    FINAL
  }

  /** How a client's run ended. */
  enum Outcome {
    OK,
    /** The login was refused as bad credentials (IMAP AUTHENTICATIONFAILED, POP3 [AUTH]). */
    AUTH_FAILED,
    /** The login was refused for now (UNAVAILABLE, SYS/TEMP, IN-USE or any new refusal kind). */
    TEMP_FAILED,
    /** No login answer: the connection was refused, closed, reset or timed out before it. */
    NOT_LOGGED_IN,
    /** Logged in, then the session broke before the client was done. */
    BROKEN
  }

  /** What must never happen. */
  enum Violation {
    /** A fetched message differs from every message delivered. */
    ALTERED,
    /** A client saw another account's message or mailbox. */
    MIXED,
    WRONG_PASSWORD_ACCEPTED,
    /** Refused as bad credentials although the password was right and nothing was down. */
    RIGHT_PASSWORD_REFUSED
  }

  /**
   * Login commands this connection sent: answered OK, answered with a refusal, or never answered
   * (the client cannot tell whether Postern counted them).
   */
  record Logins(int ok, int refused, int unanswered) {
    static final Logins NONE = new Logins(0, 0, 0);
    static final Logins SUCCEEDED = new Logins(1, 0, 0);
    static final Logins REFUSED = new Logins(0, 1, 0);
    static final Logins UNANSWERED = new Logins(0, 0, 1);
  }

  Attempt {
    violations = List.copyOf(violations);
  }

  /** Collects an attempt's facts while a client runs. */
  static final class Builder {
    private final String client;
    private final Role role;
    private final long start = System.nanoTime();
    private Outcome outcome = Outcome.NOT_LOGGED_IN;
    private Logins logins = Logins.NONE;
    private int fetched;
    private long fetchedBytes;
    private final List<Violation> violations = new ArrayList<>();
    private final StringBuilder detail = new StringBuilder();

    Builder(String client, Role role) {
      this.client = client;
      this.role = role;
    }

    Builder outcome(Outcome value) {
      outcome = value;
      return this;
    }

    Builder logins(Logins value) {
      logins = value;
      return this;
    }

    Builder fetched(long bytes) {
      fetched++;
      fetchedBytes += bytes;
      return this;
    }

    Builder violation(Violation violation, String why) {
      violations.add(violation);
      return detail(violation + ": " + why);
    }

    Builder detail(String text) {
      if (text != null && !text.isBlank()) {
        detail.append(detail.length() == 0 ? "" : "; ").append(text.strip());
      }
      return this;
    }

    Attempt build() {
      String text = detail.length() > 400 ? detail.substring(0, 400) + "…" : detail.toString();
      return new Attempt(client, role, outcome, logins, fetched, fetchedBytes, violations, text,
          start, System.nanoTime());
    }
  }
}
