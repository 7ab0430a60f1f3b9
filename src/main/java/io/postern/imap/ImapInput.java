package io.postern.imap;

/** What {@link ImapDecoder} produces from the client's bytes. */
public sealed interface ImapInput {

  /** A complete command; its words are not yet checked against any command's syntax. */
  record Frame(ImapFrame frame) implements ImapInput {}

  /** A synchronising literal was announced and accepted: the client waits for a {@code +}. */
  record LiteralWanted() implements ImapInput {}

  /** The line or a literal is over its limit; the connection cannot be resynchronised. */
  record TooBig(String what) implements ImapInput {}

  /** A plain line, read while an AUTHENTICATE exchange waits for the client's response. */
  record Line(byte[] bytes) implements ImapInput {}
}
