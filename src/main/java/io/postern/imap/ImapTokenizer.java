package io.postern.imap;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the words of one {@link ImapFrame}: atoms, quoted strings, literals and one level of
 * parenthesised list (all that any command before login needs; deeper nesting is refused, which
 * keeps Dovecot's CVE-2026-27857 out by construction).
 */
final class ImapTokenizer {

  /** A word that is not valid IMAP; the message is safe to show the client. */
  static final class SyntaxError extends Exception {
    SyntaxError(String message) {
      super(message, null, false, false);
    }
  }

  private final List<ImapFrame.Segment> segments;
  private int segment;
  private int offset;

  ImapTokenizer(ImapFrame frame) {
    this.segments = frame.segments();
  }

  boolean atEnd() {
    return segment == segments.size() - 1 && offset >= text().length;
  }

  /** One SP (extra spaces are tolerated: clients that send them are served). */
  void space() throws SyntaxError {
    if (atEnd() || peek() != ' ') {
      throw new SyntaxError("Missing argument.");
    }
    while (!atEnd() && peek() == ' ') {
      offset++;
    }
  }

  /** Skips spaces; true if a further word follows. */
  boolean more() {
    while (!atEnd() && peek() == ' ') {
      offset++;
    }
    return !atEnd();
  }

  /** A tag: ASTRING-CHARs except '+', at most 64 of them. */
  String tag() throws SyntaxError {
    int start = offset;
    while (!atEnd() && isAtomChar(peek()) || !atEnd() && peek() == ']') {
      offset++;
    }
    int length = offset - start;
    if (length == 0 || length > 64 || !atEnd() && peek() != ' ') {
      throw new SyntaxError("Invalid tag.");
    }
    String tag = new String(text(), start, length, StandardCharsets.US_ASCII);
    if (tag.indexOf('+') >= 0) {
      throw new SyntaxError("Invalid tag.");
    }
    return tag;
  }

  String atom() throws SyntaxError {
    int start = offset;
    while (!atEnd() && isAtomChar(peek())) {
      offset++;
    }
    if (offset == start) {
      throw new SyntaxError("Invalid argument.");
    }
    return new String(text(), start, offset - start, StandardCharsets.US_ASCII);
  }

  /** An atom, a quoted string or a literal. */
  byte[] astring() throws SyntaxError {
    if (atEnd()) {
      throw new SyntaxError("Missing argument.");
    }
    byte c = peek();
    if (c == '"') {
      return quoted();
    }
    if (c == '{') {
      return literal();
    }
    return atom().getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * LOGIN's user name: an astring whose atom form may also hold the list wildcards {@code *}
   * and {@code %}, as Dovecot's login accepts them, because clients (Python's imaplib among
   * them) send a master login's {@code customer*master} unquoted.
   */
  byte[] userName() throws SyntaxError {
    if (atEnd() || peek() == '"' || peek() == '{') {
      return astring();
    }
    int start = offset;
    while (!atEnd() && (isAtomChar(peek()) || peek() == '*' || peek() == '%')) {
      offset++;
    }
    if (offset == start) {
      throw new SyntaxError("Invalid argument.");
    }
    return java.util.Arrays.copyOfRange(text(), start, offset);
  }

  /** An astring, or null for NIL. */
  byte[] nstring() throws SyntaxError {
    if (!atEnd() && peek() != '"' && peek() != '{') {
      String word = atom();
      if (word.equalsIgnoreCase("NIL")) {
        return null;
      }
      return word.getBytes(StandardCharsets.US_ASCII);
    }
    return astring();
  }

  /** {@code ( nstring *(SP nstring) )}, or null for NIL. */
  List<byte[]> list() throws SyntaxError {
    if (!atEnd() && peek() != '(') {
      if (!atom().equalsIgnoreCase("NIL")) {
        throw new SyntaxError("Expected a list or NIL.");
      }
      return null;
    }
    offset++;
    List<byte[]> items = new ArrayList<>();
    while (true) {
      if (atEnd()) {
        throw new SyntaxError("Unterminated list.");
      }
      if (peek() == ')') {
        offset++;
        return items;
      }
      if (!items.isEmpty()) {
        space();
        if (!atEnd() && peek() == ')') {
          offset++;
          return items;
        }
      }
      if (!atEnd() && peek() == '(') {
        throw new SyntaxError("Nested lists are not accepted before login.");
      }
      items.add(nstring());
    }
  }

  private byte[] quoted() throws SyntaxError {
    offset++;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (true) {
      if (offset >= text().length) {
        throw new SyntaxError("Unterminated quoted string.");
      }
      byte c = text()[offset++];
      if (c == '"') {
        return out.toByteArray();
      }
      if (c == '\\') {
        if (offset >= text().length) {
          throw new SyntaxError("Unterminated quoted string.");
        }
        c = text()[offset++];
        if (c != '"' && c != '\\') {
          throw new SyntaxError("Invalid escape in quoted string.");
        }
      } else if (c == 0 || c == '\r' || c == '\n') {
        throw new SyntaxError("Invalid character in quoted string.");
      }
      out.write(c);
    }
  }

  private byte[] literal() throws SyntaxError {
    LiteralMarker marker = LiteralMarker.at(text());
    boolean followed = segment + 1 < segments.size() && segments.get(segment + 1).literal();
    if (marker == null || marker.start() != offset || !followed) {
      throw new SyntaxError("Invalid literal.");
    }
    byte[] bytes = segments.get(segment + 1).bytes();
    for (byte b : bytes) {
      if (b == 0) {
        throw new SyntaxError("NUL in literal.");
      }
    }
    segment += 2;
    offset = 0;
    return bytes;
  }

  private byte[] text() {
    return segments.get(segment).bytes();
  }

  private byte peek() {
    return text()[offset];
  }

  /** ATOM-CHAR of RFC 9051: printable ASCII except atom-specials. */
  private static boolean isAtomChar(byte c) {
    if (c <= 0x20 || c >= 0x7f) {
      return false;
    }
    return switch (c) {
      case '(', ')', '{', '%', '*', '"', '\\', ']' -> false;
      default -> true;
    };
  }
}
