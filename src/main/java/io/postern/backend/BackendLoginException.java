package io.postern.backend;

/**
 * Logging in to a backend failed. The message is for Postern's log (never a password, never
 * more than a short excerpt of what the backend sent); clients get a fixed text chosen by kind.
 */
public final class BackendLoginException extends Exception {

  /** Why, in the terms the client's reply is chosen by. */
  public enum Kind {
    /** Connection refused, reset or timed out, DNS failure. */
    UNREACHABLE,
    /** The backend did not answer in time. */
    TIMEOUT,
    /** Unexpected greeting or reply: PREAUTH, BYE, garbage, over-long lines. */
    PROTOCOL,
    /** STARTTLS refused, bytes injected after its reply, or a failed handshake or certificate. */
    TLS,
    /** The backend refused the user's credentials. */
    REJECTED,
    /** The backend says the mailbox is in use (POP3 [IN-USE]). */
    IN_USE,
    /** The backend says it is temporarily unable to serve the user. */
    UNAVAILABLE
  }

  private final Kind kind;
  private final boolean beforeCredentials;

  public BackendLoginException(Kind kind, String message) {
    this(kind, message, false);
  }

  private BackendLoginException(Kind kind, String message, boolean beforeCredentials) {
    super(message, null, false, false);
    this.kind = kind;
    this.beforeCredentials = beforeCredentials;
  }

  public Kind kind() {
    return kind;
  }

  /** The same failure, known to have happened before the user's credentials were sent. */
  BackendLoginException beforeCredentials() {
    return beforeCredentials ? this : new BackendLoginException(kind, getMessage(), true);
  }

  /**
   * Another server may be tried: this one could not be reached or would not serve anyone
   * (refused, timed out, failed TLS, greeted with BYE or garbage) before it was asked about the
   * user. After the credentials went out, its answer is the user's answer, whatever it is.
   */
  public boolean serverFault() {
    return beforeCredentials && kind != Kind.REJECTED && kind != Kind.IN_USE;
  }

  /** Keeps what a backend sent short and on one line before it goes into a log message. */
  public static String excerpt(String backendText) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < backendText.length() && out.length() < 80; i++) {
      char c = backendText.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return out.length() < backendText.length() ? out + "..." : out.toString();
  }
}
