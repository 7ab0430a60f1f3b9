package io.postern.pop3;

import io.postern.net.ReceivedBytes;
import io.postern.session.ClientDecoder;
import io.postern.session.ClientInput;
import io.postern.session.Goodbye;

/**
 * Splits the client's bytes into POP3 command lines before login, each at most {@code maxLine}
 * bytes, and keeps every byte it has not returned so that commands pipelined after a successful
 * login reach the backend unchanged. A line ends at LF; a CR right before it is dropped.
 */
public final class Pop3Decoder implements ClientDecoder<Pop3Request> {

  /** Over the limit: the connection must be closed. */
  public static final byte[] TOO_LONG = new byte[0];

  private final int maxLine;
  private final ReceivedBytes bytes;
  /** How far the current line has been searched for its end. */
  private int scanned;

  public Pop3Decoder(int maxLine) {
    this.maxLine = maxLine;
    // The socket is paused while a command is handled; this is only a backstop.
    this.bytes = new ReceivedBytes(256, maxLine + (1 << 20));
  }

  /** Appends received bytes; false when more is buffered than any client may pipeline. */
  @Override
  public boolean feed(byte[] data) {
    return bytes.append(data);
  }

  /** The next line without its line end, {@link #TOO_LONG}, or null when more bytes are needed. */
  public byte[] next() {
    int lf = bytes.indexOf((byte) '\n', scanned);
    if (lf < 0) {
      scanned = bytes.size();
      // A CR at the end may be the first half of the CRLF, which is no part of the line.
      int pending = scanned > 0 && bytes.at(scanned - 1) == '\r' ? scanned - 1 : scanned;
      return pending > maxLine ? TOO_LONG : null;
    }
    int lineEnd = lf > 0 && bytes.at(lf - 1) == '\r' ? lf - 1 : lf;
    if (lineEnd > maxLine) {
      return TOO_LONG;
    }
    byte[] line = bytes.copy(0, lineEnd);
    bytes.consume(lf + 1);
    scanned = 0;
    return line;
  }

  /** The session's view: one command, or an AUTH response, per line. */
  @Override
  public ClientInput<Pop3Request> read(boolean saslResponse) {
    byte[] line = next();
    if (line == null) {
      return null;
    }
    if (line == TOO_LONG) {
      return new ClientInput.TooBig<>(Goodbye.LINE_TOO_LONG);
    }
    return saslResponse ? new ClientInput.SaslResponse<>(line)
        : new ClientInput.Command<>(Pop3Request.parse(line));
  }

  /** Every byte received after the last returned line, exactly as received; empties it. */
  @Override
  public byte[] drain() {
    scanned = 0;
    return bytes.drain();
  }

  /** Forgets everything buffered: STLS must not act on bytes that came in plaintext. */
  @Override
  public void discard() {
    bytes.clear();
    scanned = 0;
  }
}
