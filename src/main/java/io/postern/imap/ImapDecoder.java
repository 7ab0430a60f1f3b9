package io.postern.imap;

import io.postern.session.ClientDecoder;
import io.postern.session.ClientInput;
import io.postern.session.Goodbye;
import java.util.ArrayList;
import java.util.Arrays;
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
  private final int maxBuffered;

  private byte[] buf = new byte[512];
  private int frameStart;
  private int end;

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
    this.maxBuffered = maxLine + maxLiteral + (1 << 20);
  }

  /** Appends received bytes; false when more is buffered than any client may pipeline. */
  @Override
  public boolean feed(byte[] data) {
    compact();
    if (end + data.length - frameStart > maxBuffered) {
      return false;
    }
    if (end + data.length > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, end + data.length));
    }
    System.arraycopy(data, 0, buf, end, data.length);
    end += data.length;
    return true;
  }

  /** The next command, a literal continuation request, an over-limit error, or null for "need more". */
  public ImapInput next() {
    while (true) {
      if (literalRemaining >= 0) {
        if (end - pos < literalRemaining) {
          return null;
        }
        segments.add(new ImapFrame.Segment(Arrays.copyOfRange(buf, pos, pos + literalRemaining),
            true));
        pos += literalRemaining;
        literalRemaining = -1;
      }
      int lf = indexOfLf(pos);
      if (lf < 0) {
        if (textBytes + (end - pos) > maxLine) {
          return new ImapInput.TooBig("line");
        }
        return null;
      }
      int lineEnd = lf > pos && buf[lf - 1] == '\r' ? lf - 1 : lf;
      textBytes += lineEnd - pos;
      if (textBytes > maxLine) {
        return new ImapInput.TooBig("line");
      }
      byte[] text = Arrays.copyOfRange(buf, pos, lineEnd);
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
    int lf = indexOfLf(pos);
    if (lf < 0) {
      return end - pos > maxLine ? new ImapInput.TooBig("line") : null;
    }
    int lineEnd = lf > pos && buf[lf - 1] == '\r' ? lf - 1 : lf;
    if (lineEnd - pos > maxLine) {
      return new ImapInput.TooBig("line");
    }
    byte[] line = Arrays.copyOfRange(buf, pos, lineEnd);
    pos = lf + 1;
    frameStart = pos;
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

  /** Every byte received after the last returned command, exactly as received; empties the decoder. */
  @Override
  public byte[] drain() {
    byte[] rest = Arrays.copyOfRange(buf, frameStart, end);
    discard();
    return rest;
  }

  /** Forgets everything buffered: STARTTLS must not act on bytes that came in plaintext. */
  @Override
  public void discard() {
    frameStart = 0;
    end = 0;
    resetFrame();
  }

  public int buffered() {
    return end - frameStart;
  }

  private ImapFrame completeFrame() {
    ImapFrame frame = new ImapFrame(segments);
    frameStart = pos;
    resetFrame();
    return frame;
  }

  private void resetFrame() {
    pos = frameStart;
    textBytes = 0;
    literalBytes = 0;
    literalRemaining = -1;
    segments.clear();
  }

  private int indexOfLf(int from) {
    for (int i = from; i < end; i++) {
      if (buf[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private void compact() {
    if (frameStart > 0 && frameStart == end) {
      pos -= frameStart;
      end = 0;
      frameStart = 0;
    } else if (frameStart > buf.length / 2) {
      System.arraycopy(buf, frameStart, buf, 0, end - frameStart);
      pos -= frameStart;
      end -= frameStart;
      frameStart = 0;
    }
  }
}
