package io.postern.imap;

import io.postern.config.TlsMode;
import io.postern.session.ClientConnection;

/** Postern's own IMAP reply texts and its pre-login capability list. */
final class ImapReplies {

  static final String GREETING_TEXT = "Postern ready.";
  static final String AUTH_FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed.";
  static final String PRIVACY_REQUIRED =
      "NO [PRIVACYREQUIRED] Plaintext authentication is disabled; use STARTTLS first.";
  static final String UNAVAILABLE =
      "NO [UNAVAILABLE] Service temporarily unavailable, try again later.";
  static final String IN_USE = "NO [INUSE] Mailbox is in use.";
  static final String BYE_TOO_MANY_ATTEMPTS = "* BYE Too many authentication failures.\r\n";
  static final String BYE_TOO_MANY_ERRORS = "* BYE Too many invalid commands.\r\n";
  static final String BYE_LINE_TOO_LONG = "* BYE [TOOBIG] Command line too long.\r\n";
  static final String BYE_LITERAL_TOO_BIG = "* BYE [TOOBIG] Literal too big.\r\n";
  static final String BYE_TIMEOUT = "* BYE Timed out waiting for login.\r\n";
  static final String BYE_SHUTDOWN = "* BYE [UNAVAILABLE] Server shutting down.\r\n";
  static final String BYE_INTERNAL = "* BYE [SERVERBUG] Internal error, sorry.\r\n";
  static final String CONTINUE_LITERAL = "+ Ready for literal data\r\n";

  private ImapReplies() {}

  /** RFC 9051 §7.2.2 and §11.7: before TLS only what cannot leak a password is offered. */
  static String capabilities(ClientConnection conn) {
    StringBuilder caps = new StringBuilder("IMAP4rev1 SASL-IR ID LITERAL+");
    if (conn.context().listener().tls() == TlsMode.STARTTLS && !conn.secured()) {
      caps.append(" STARTTLS");
    }
    caps.append(conn.cleartextRefused() ? " LOGINDISABLED" : " AUTH=PLAIN AUTH=LOGIN");
    return caps.toString();
  }

  static String greeting(ClientConnection conn) {
    return "* OK [CAPABILITY " + capabilities(conn) + "] " + GREETING_TEXT + "\r\n";
  }
}
