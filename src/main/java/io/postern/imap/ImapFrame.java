package io.postern.imap;

import java.util.List;

/**
 * One complete command as received: its text pieces (CRLF removed, a trailing literal marker kept)
 * alternating with the literals that followed them.
 */
public record ImapFrame(List<Segment> segments) {

  public ImapFrame {
    segments = List.copyOf(segments);
  }

  /** A piece of command text, or the bytes of a literal. */
  public record Segment(byte[] bytes, boolean literal) {}
}
