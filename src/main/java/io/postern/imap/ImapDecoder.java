package io.postern.imap;

import io.postern.net.ReceivedBytes;
import io.postern.session.ClientDecoder;
import io.postern.session.ClientInput;
import io.postern.session.Goodbye;
import java.util.ArrayList;
import java.util.List;

/**
 * Frames IMAP commands from raw bytes before login, with hard limits: command text (literal data
 * excluded) up to {@code maxLine} bytes, and literal data up to {@code maxLiteral} bytes per
 * command. It never allocates what a client merely announces, and it keeps every byte it has not
 * returned, so that the bytes pipelined after a successful LOGIN can be handed to the backend
 * unchanged.
 *
 * <p>A line ends at LF; a CR right before it is dropped (clients that send a bare LF are served
 * rather than refused).
 */
public final class ImapDecoder implements ClientDecoder<ImapRequest> {

  private final int maxLine;
  private final int maxLiteral;
  /** Everything not yet returned; the frame being read starts at its offset 0. */
  private final ReceivedBytes bytes;

  // Progress inside the frame being read; reset when a frame completes.
  private int pos;
  private int textBytes;
  private int literalBytes;
  private int literalRemaining = -1;
  private final List<ImapFrame.Segment> segments = new ArrayList<>();

  public ImapDecoder(int maxLine, int maxLiteral) {
    this.maxLine = maxLine;
    this.maxLiteral = maxLiteral;
    // The socket is paused while a command is being handled, so little more than one read can
    // pile up; this is a backstop, not the mechanism.
    this.bytes = new ReceivedBytes(512, maxLine + maxLiteral + (1 << 20));
  }

  /** Appends received bytes; false when more is buffered than any client may pipeline. */
  @Override
  public boolean feed(byte[] data) {
    return bytes.append(data);
  }

  /** The next command, a literal continuation request, an over-limit error, or null for "need more". */
  public ImapInput next() {
    while (true) {
      if (literalRemaining >= 0) {
        if (bytes.size() - pos < literalRemaining) {
          return null;
        }
        segments.add(new ImapFrame.Segment(bytes.copy(pos, pos + literalRemaining), true));
        pos += literalRemaining;
        literalRemaining = -1;
      }
      int lf = bytes.indexOf((byte) '\n', pos);
      if (lf < 0) {
        if (textBytes + unendedLine(pos) > maxLine) {
          return new ImapInput.TooBig("line");
        }
        return null;
      }
      int lineEnd = lf > pos && bytes.at(lf - 1) == '\r' ? lf - 1 : lf;
      textBytes += lineEnd - pos;
      if (textBytes > maxLine) {
        return new ImapInput.TooBig("line");
      }
      byte[] text = bytes.copy(pos, lineEnd);
      pos = lf + 1;
      segments.add(new ImapFrame.Segment(text, false));
      LiteralMarker marker = LiteralMarker.at(text);
      if (marker == null) {
        return new ImapInput.Frame(completeFrame());
      }
      if (marker.length() > maxLiteral - literalBytes) {
        return new ImapInput.TooBig("literal");
      }
      literalBytes += (int) marker.length();
      literalRemaining = (int) marker.length();
      if (marker.synchronising()) {
        return new ImapInput.LiteralWanted();
      }
    }
  }

  /** The next bare line (an AUTHENTICATE response), without literal processing. */
  public ImapInput nextLine() {
    int lf = bytes.indexOf((byte) '\n', 0);
    if (lf < 0) {
      return unendedLine(0) > maxLine ? new ImapInput.TooBig("line") : null;
    }
    int lineEnd = lf > 0 && bytes.at(lf - 1) == '\r' ? lf - 1 : lf;
    if (lineEnd > maxLine) {
      return new ImapInput.TooBig("line");
    }
    byte[] line = bytes.copy(0, lineEnd);
    bytes.consume(lf + 1);
    resetFrame();
    return new ImapInput.Line(line);
  }

  /** The session's view: commands parsed, AUTHENTICATE responses as lines. */
  @Override
  public ClientInput<ImapRequest> read(boolean saslResponse) {
    ImapInput input = saslResponse ? nextLine() : next();
    if (input instanceof ImapInput.Frame f) {
      return new ClientInput.Command<>(ImapRequests.parse(f.frame()));
    } else if (input instanceof ImapInput.Line l) {
      return new ClientInput.SaslResponse<>(l.bytes());
    } else if (input instanceof ImapInput.LiteralWanted) {
      return new ClientInput.GoAhead<>("+ Ready for literal data\r\n");
    } else if (input instanceof ImapInput.TooBig t) {
      return new ClientInput.TooBig<>(t.what().equals("literal") ? Goodbye.LITERAL_TOO_BIG
          : Goodbye.LINE_TOO_LONG);
    }
    return null;
  }

  /** Every byte received after the last returned command, exactly as received; empties it. */
  @Override
  public byte[] drain() {
    resetFrame();
    return bytes.drain();
  }

  /** Forgets everything buffered: STARTTLS must not act on bytes that came in plaintext. */
  @Override
  public void discard() {
    bytes.clear();
    resetFrame();
  }

  /**
   * The length of a line from {@code from} whose LF has not come yet; a CR at the end may be the
   * first half of the CRLF, which is no part of the line.
   */
  private int unendedLine(int from) {
    int end = bytes.size();
    return end > from && bytes.at(end - 1) == '\r' ? end - 1 - from : end - from;
  }

  private ImapFrame completeFrame() {
    ImapFrame frame = new ImapFrame(segments);
    bytes.consume(pos);
    resetFrame();
    return frame;
  }

  private void resetFrame() {
    pos = 0;
    textBytes = 0;
    literalBytes = 0;
    literalRemaining = -1;
    segments.clear();
  }
}
