package io.postern.session;

/** What a protocol's decoder makes of the client's bytes before login. */
public sealed interface ClientInput<R> {

  /** A complete command, parsed by the protocol (syntax errors included, as requests). */
  record Command<R>(R request) implements ClientInput<R> {}

  /** A line answering a SASL challenge. */
  record SaslResponse<R>(byte[] line) implements ClientInput<R> {}

  /** The client waits to be told to go on (an IMAP synchronising literal's {@code +}). */
  record GoAhead<R>(String reply) implements ClientInput<R> {}

  /** Over a limit: the stream cannot be resynchronised, so the connection ends. */
  record TooBig<R>(Goodbye why) implements ClientInput<R> {}
}
