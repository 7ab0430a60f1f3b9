package io.postern.it;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A real IMAP + POP3 server an interop test puts behind Postern (Courier, Cyrus): each protocol
 * plaintext with STARTTLS/STLS and with implicit TLS, on 127.0.0.1, its certificate valid for
 * {@code localhost} and {@code 127.0.0.1}. Users log in with plain passwords over any of them.
 */
interface MailBackend extends AutoCloseable {

  /** For messages: "Courier", "Cyrus". */
  String name();

  int imapPort();

  int imapsPort();

  int pop3Port();

  int pop3sPort();

  /** PEM of the server's self-signed certificate: the trust anchor for verifying it. */
  Path certificate();

  /** What the server logged (its output and log files), for assertion messages. */
  String logText() throws IOException;

  /** Stops the server by pid; its files stay until the test's temporary directory goes. */
  @Override
  void close();
}
