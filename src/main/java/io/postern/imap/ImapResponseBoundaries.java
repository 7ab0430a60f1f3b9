package io.postern.imap;

import io.postern.relay.ResponseBoundaries;
import io.vertx.core.buffer.Buffer;

/**
 * Where an IMAP server's responses begin and end, followed byte by byte except inside literals:
 * a response is a line, which a literal announced at its end ({@code {n}}, {@code {n+}}, or
 * literal8 {@code ~{n}}) continues past its CRLF for n bytes and then on to the next line end.
 * A literal is skipped by its length, so a 64 MiB message costs as many steps as it has chunks.
 * A bare LF ends a line as CRLF does. Not thread-safe: one per relay, on its event loop.
 */
public final class ImapResponseBoundaries implements ResponseBoundaries {

  /** Where the end of the current line stands with respect to a literal announcement. */
  private enum Marker { NONE, OPEN, DIGITS, PLUS, CLOSED, CLOSED_CR }

  /** Beyond this a length is absurd; it stays at this and keeps the arithmetic in range. */
  private static final long MAX_LENGTH = 1L << 62;

  private boolean between = true;
  private long literalLeft;
  private Marker marker = Marker.NONE;
  private long length;

  @Override
  public boolean between() {
    return between && literalLeft == 0;
  }

  @Override
  public int follow(Buffer data, boolean stop) {
    int end = data.length();
    int i = 0;
    while (i < end) {
      if (literalLeft > 0) {
        int skip = (int) Math.min(literalLeft, end - i);
        i += skip;
        literalLeft -= skip;
        continue;
      }
      byte b = data.getByte(i++);
      between = false;
      if (b == '\n') {
        if (marker == Marker.CLOSED || marker == Marker.CLOSED_CR) {
          // The line goes on after the literal's bytes; a {0} literal goes on at once.
          literalLeft = length;
          marker = Marker.NONE;
          continue;
        }
        marker = Marker.NONE;
        between = true;
        if (stop) {
          return i;
        }
        continue;
      }
      marker = next(marker, b);
    }
    return end;
  }

  private Marker next(Marker at, byte b) {
    if (b == '{') {
      length = 0;
      return Marker.OPEN;
    }
    if (b >= '0' && b <= '9') {
      if (at != Marker.OPEN && at != Marker.DIGITS) {
        return Marker.NONE;
      }
      length = length > MAX_LENGTH / 10 ? MAX_LENGTH : length * 10 + (b - '0');
      return Marker.DIGITS;
    }
    return switch (b) {
      case '+' -> at == Marker.DIGITS ? Marker.PLUS : Marker.NONE;
      case '}' -> at == Marker.DIGITS || at == Marker.PLUS ? Marker.CLOSED : Marker.NONE;
      case '\r' -> at == Marker.CLOSED ? Marker.CLOSED_CR : Marker.NONE;
      default -> Marker.NONE;
    };
  }
}
