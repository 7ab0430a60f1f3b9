package io.postern.pop3;

import io.postern.config.TlsMode;
import io.postern.session.ClientConnection;

/** Postern's own POP3 reply texts (RFC 2449/3206 response codes) and its CAPA list. */
final class Pop3Replies {

  static final String GREETING = "+OK Postern ready.\r\n";
  static final String AUTH_FAILED = "-ERR [AUTH] Authentication failed.\r\n";
  static final String CLEARTEXT_REFUSED =
      "-ERR [AUTH] Plaintext authentication is disabled; use STLS first.\r\n";
  static final String UNAVAILABLE =
      "-ERR [SYS/TEMP] Service temporarily unavailable, try again later.\r\n";
  static final String IN_USE = "-ERR [IN-USE] Mailbox is in use.\r\n";
  static final String TOO_MANY_ATTEMPTS = "-ERR [SYS/TEMP] Too many authentication failures.\r\n";
  static final String TOO_MANY_ERRORS = "-ERR Too many invalid commands.\r\n";
  static final String LINE_TOO_LONG = "-ERR Command line too long.\r\n";
  static final String TIMEOUT = "-ERR Timed out waiting for login.\r\n";
  static final String INTERNAL = "-ERR [SYS/TEMP] Internal error, sorry.\r\n";
  static final String SHUTDOWN = "-ERR [SYS/TEMP] Server shutting down.\r\n";

  private Pop3Replies() {}

  /** RFC 2449 CAPA; USER and SASL only where a password may be sent (RFC 2595 §2.2). */
  static String capa(ClientConnection conn) {
    StringBuilder out = new StringBuilder("+OK Capability list follows.\r\n");
    if (conn.context().listener().tls() == TlsMode.STARTTLS && !conn.secured()) {
      out.append("STLS\r\n");
    }
    if (!conn.cleartextRefused()) {
      out.append("USER\r\nSASL PLAIN LOGIN\r\n");
    }
    return out.append("RESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nIMPLEMENTATION Postern\r\n.\r\n")
        .toString();
  }
}
