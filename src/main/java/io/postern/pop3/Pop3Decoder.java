package io.postern.pop3;

import io.postern.session.ClientDecoder;
import io.postern.session.ClientInput;
import io.postern.session.Goodbye;
import java.util.Arrays;

/**
 * Splits the client's bytes into POP3 command lines before login, each at most {@code maxLine}
 * bytes, and keeps every byte it has not returned so that commands pipelined after a successful
 * login reach the backend unchanged. A line ends at LF; a CR right before it is dropped.
 */
public final class Pop3Decoder implements ClientDecoder<Pop3Request> {

  /** Over the limit: the connection must be closed. */
  public static final byte[] TOO_LONG = new byte[0];

  private final int maxLine;
  private final int maxBuffered;
  private byte[] buf = new byte[256];
  private int start;
  private int end;
  private int scanned;

  public Pop3Decoder(int maxLine) {
    this.maxLine = maxLine;
    // The socket is paused while a command is handled; this is only a backstop.
    this.maxBuffered = maxLine + (1 << 20);
  }

  /** Appends received bytes; false when more is buffered than any client may pipeline. */
  @Override
  public boolean feed(byte[] data) {
    if (start == end) {
      start = 0;
      end = 0;
      scanned = 0;
    } else if (start > buf.length / 2) {
      System.arraycopy(buf, start, buf, 0, end - start);
      end -= start;
      scanned -= start;
      start = 0;
    }
    if (end + data.length - start > maxBuffered) {
      return false;
    }
    if (end + data.length > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, end + data.length));
    }
    System.arraycopy(data, 0, buf, end, data.length);
    end += data.length;
    return true;
  }

  /** The next line without its line end, {@link #TOO_LONG}, or null when more bytes are needed. */
  public byte[] next() {
    for (int i = Math.max(scanned, start); i < end; i++) {
      if (buf[i] == '\n') {
        int lineEnd = i > start && buf[i - 1] == '\r' ? i - 1 : i;
        if (lineEnd - start > maxLine) {
          return TOO_LONG;
        }
        byte[] line = Arrays.copyOfRange(buf, start, lineEnd);
        start = i + 1;
        scanned = start;
        return line;
      }
    }
    scanned = end;
    return end - start > maxLine ? TOO_LONG : null;
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

  /** Every byte received after the last returned line, exactly as received; empties the decoder. */
  @Override
  public byte[] drain() {
    byte[] rest = Arrays.copyOfRange(buf, start, end);
    discard();
    return rest;
  }

  /** Forgets everything buffered: STLS must not act on bytes that came in plaintext. */
  @Override
  public void discard() {
    start = 0;
    end = 0;
    scanned = 0;
  }
}
