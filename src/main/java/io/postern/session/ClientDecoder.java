package io.postern.session;

/**
 * A protocol's decoder as the session core uses it: raw bytes in, {@link ClientInput} out, with
 * every byte it has not returned kept, so that what a client pipelined after its login command
 * reaches the backend unchanged.
 */
public interface ClientDecoder<R> {

  /** Appends received bytes; false when more is buffered than any client may pipeline. */
  boolean feed(byte[] data);

  /**
   * The next input, or null until more bytes arrive. While a SASL exchange waits for the
   * client ({@code saslResponse}), a line is a response, not a command.
   */
  ClientInput<R> read(boolean saslResponse);

  /** Every byte received after the last input returned, exactly as received; empties it. */
  byte[] drain();

  /** Forgets everything buffered: STARTTLS must not act on bytes that came in plaintext. */
  void discard();
}
