package io.postern.session;

/**
 * Why Postern closes a connection itself, in neutral terms: each protocol turns it into its last
 * line (IMAP {@code * BYE}, POP3 {@code -ERR}) with its response code, in one place.
 */
public enum Goodbye {
  TOO_MANY_ATTEMPTS("Too many authentication failures.", "too_many_attempts"),
  TOO_MANY_ERRORS("Too many invalid commands.", "too_many_errors"),
  LINE_TOO_LONG("Command line too long.", "too_big"),
  LITERAL_TOO_BIG("Literal too big.", "too_big"),
  PREAUTH_TIMEOUT("Timed out waiting for login.", "preauth_timeout"),
  SHUTDOWN("Server shutting down.", "shutdown"),
  /** Ended from outside for another reason than shutdown (a kick, a drain): come back later. */
  ENDED("Session ended by the server, please reconnect.", "ended"),
  INTERNAL_ERROR("Internal error, sorry.", "internal_error"),
  /** Refused before any session: {@code limits.max-connections}. */
  TOO_MANY_CONNECTIONS("Too many connections.", "rejected"),
  /** Refused before any session: {@code limits.max-connections-per-ip}. */
  TOO_MANY_FROM_ADDRESS("Too many connections from your address.", "rejected"),
  /** Refused before any session: {@code limits.connection-rate-per-ip}. */
  CONNECTING_TOO_FAST("Too many new connections from your address.", "rejected"),
  /** STARTTLS refused: {@code limits.handshake-rate-per-ip}. */
  TOO_MANY_HANDSHAKES("Too many TLS handshakes from your address.", "tls_refused"),
  /**
   * TLS without a client certificate that this listener's CAs verify, where one is required
   * (nginx's words): only a session resumed from a ticket gets this far without one.
   */
  CERTIFICATE_REQUIRED("No required SSL certificate.", "tls_failed"),
  /**
   * A client certificate sent that this listener's CAs do not verify now (revoked by
   * {@code client-crl}, or from a session resumed elsewhere), required or optional (nginx's
   * words).
   */
  CERTIFICATE_INVALID("SSL certificate error.", "tls_failed");

  private final String text;
  private final String result;

  Goodbye(String text, String result) {
    this.text = text;
    this.result = result;
  }

  /** What the client is told, without the protocol's status word and response code. */
  public String text() {
    return text;
  }

  /** The {@code result} of the session log line. */
  String result() {
    return result;
  }
}
