package io.postern.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * An IMAP sequence set such as {@code 1}, {@code 1:3}, {@code 2:*}, {@code *} or {@code 1,3}.
 *
 * @param ranges the comma-separated ranges; {@link #STAR} stands for {@code *}
 */
record SequenceSet(List<Range> ranges) {

  static final long STAR = -1;

  /** One range; a single number has {@code first == last}. */
  record Range(long first, long last) {
    boolean contains(long n, long largest) {
      long a = first == STAR ? largest : first;
      long b = last == STAR ? largest : last;
      // Ranges may be written backwards ("3:1"), and "n:*" always includes the largest number.
      return n >= Math.min(a, b) && n <= Math.max(a, b);
    }
  }

  SequenceSet {
    ranges = List.copyOf(ranges);
  }

  static boolean looksLike(String text) {
    return text.matches("[0-9*][0-9*:,]*");
  }

  static SequenceSet parse(String text) throws ImapSyntaxException {
    if (!looksLike(text)) {
      throw new ImapSyntaxException("Invalid sequence set.");
    }
    List<Range> ranges = new ArrayList<>();
    for (String piece : text.split(",", -1)) {
      String[] ends = piece.split(":", -1);
      if (ends.length > 2) {
        throw new ImapSyntaxException("Invalid sequence set.");
      }
      long first = number(ends[0]);
      ranges.add(new Range(first, ends.length == 2 ? number(ends[1]) : first));
    }
    return new SequenceSet(ranges);
  }

  private static long number(String text) throws ImapSyntaxException {
    if (text.equals("*")) {
      return STAR;
    }
    if (!text.matches("[1-9][0-9]{0,9}") || Long.parseLong(text) > 0xFFFFFFFFL) {
      throw new ImapSyntaxException("Invalid number in sequence set.");
    }
    return Long.parseLong(text);
  }

  boolean contains(long n, long largest) {
    return ranges.stream().anyMatch(r -> r.contains(n, largest));
  }

  /** The largest explicit number, to reject message sequence numbers beyond EXISTS. */
  long largestExplicit() {
    return ranges.stream()
        .flatMap(r -> java.util.stream.Stream.of(r.first(), r.last()))
        .mapToLong(Long::longValue)
        .max()
        .orElse(STAR);
  }
}
