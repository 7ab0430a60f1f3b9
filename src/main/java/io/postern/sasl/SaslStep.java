package io.postern.sasl;

import io.postern.credentials.Credentials;

/** What a SASL mechanism needs next. */
public sealed interface SaslStep {

  /** Send this base64 challenge (possibly empty) and pass the client's next line back. */
  record Challenge(String base64) implements SaslStep {}

  /** The exchange is complete. */
  record Done(Credentials credentials) implements SaslStep {}

  /**
   * The credentials were refused: send this error challenge, read the client's one answer to it
   * (whatever it is), and only then fail the command (RFC 7628 §3.2.2, Google's XOAUTH2).
   */
  record Refusal(String base64) implements SaslStep {}

  /** The client's data is malformed; {@code message} is Postern's own text, safe to send. */
  record Malformed(String message) implements SaslStep {}
}
