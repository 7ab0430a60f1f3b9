package io.postern.imap;

import io.netty.buffer.ByteBuf;
import io.postern.relay.ResponseBoundaries;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Where an IMAP server's responses begin and end: a response is a line, which a literal
 * announced at its end ({@code {n}}, {@code {n+}}, or literal8 {@code ~{n}}) continues past its
 * CRLF for n bytes and then on to the next line end. A bare LF ends a line as CRLF does.
 *
 * <p>It runs on every byte a backend sends, so it looks at few of them: a literal is skipped by
 * its length (a 64 MiB message costs as many steps as it has chunks), line ends are found with
 * Netty's word-at-a-time search, and only the few bytes before a line end (a marker is at most
 * {@value #WINDOW} bytes: no length has more than 20 digits) are read one by one. Not
 * thread-safe: one per relay, on its event loop.
 */
public final class ImapResponseBoundaries implements ResponseBoundaries {

  /** Where the end of the current line stands with respect to a literal announcement. */
  private enum Marker { NONE, OPEN, DIGITS, PLUS, CLOSED, CLOSED_CR }

  /** Longer runs of digits are no literal length (number64 has at most 19). */
  private static final int MAX_DIGITS = 20;
  /** The longest marker with its line end: brace, digits, plus, brace, CR. */
  static final int WINDOW = MAX_DIGITS + 4;

  private boolean between = true;
  private long literalLeft;
  private Marker marker = Marker.NONE;
  private long length;
  private int digits;

  @Override
  public boolean between() {
    return between && literalLeft == 0;
  }

  @Override
  public int follow(Buffer data, boolean stop) {
    ByteBuf bytes = data instanceof BufferInternal internal ? internal.getByteBuf() : null;
    int end = data.length();
    int i = 0;
    while (i < end) {
      if (literalLeft > 0) {
        int skip = (int) Math.min(literalLeft, end - i);
        i += skip;
        literalLeft -= skip;
        between = false;
        continue;
      }
      between = false;
      int lf = bytes != null ? bytes.indexOf(i, end, (byte) '\n') : lineFeed(data, i, end);
      if (lf < 0) {
        // The line goes on in the next chunk: only how its end looks so far matters.
        tail(data, i, end);
        return end;
      }
      lineEnd(data, i, lf);
      i = lf + 1;
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
    }
    return end;
  }

  private static int lineFeed(Buffer data, int from, int to) {
    for (int k = from; k < to; k++) {
      if (data.getByte(k) == '\n') {
        return k;
      }
    }
    return -1;
  }

  /** Sets the marker for the line part {@code [from, lf)} that ends at a line feed. */
  private void lineEnd(Buffer data, int from, int lf) {
    int last = lf - 1;
    if (last >= from && data.getByte(last) == '\r') {
      last--;
    }
    if (last >= from && data.getByte(last) != '}') {
      // The usual case, decided by one or two bytes: no marker ends this line.
      marker = Marker.NONE;
    } else {
      tail(data, from, lf);
    }
  }

  /** Follows the marker over {@code [from, to)}, a part of one line; only its end can matter. */
  private void tail(Buffer data, int from, int to) {
    int start = Math.max(from, to - WINDOW);
    if (start > from) {
      // What came before the window cannot be part of a marker that ends the line.
      marker = Marker.NONE;
    }
    for (int k = start; k < to; k++) {
      marker = next(marker, data.getByte(k));
    }
  }

  private Marker next(Marker at, byte b) {
    if (b == '{') {
      length = 0;
      digits = 0;
      return Marker.OPEN;
    }
    if (b >= '0' && b <= '9') {
      if ((at != Marker.OPEN && at != Marker.DIGITS) || ++digits > MAX_DIGITS) {
        return Marker.NONE;
      }
      // 20 digits may overflow a long: such a length is never reached anyway.
      length = length > Long.MAX_VALUE / 10 ? Long.MAX_VALUE : length * 10 + (b - '0');
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
