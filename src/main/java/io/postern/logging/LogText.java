package io.postern.logging;

/**
 * Which characters of client-chosen text (a user name, a mechanism, an auth service's reason) a
 * log line must never carry raw. A terminal, a log viewer or a SIEM may start a new line at any
 * Unicode line break, not only at LF, and may reorder text at a bidi control: raw, such a
 * character lets a client forge a line ("login ok: user=root") or make one read differently
 * from what it holds (Trojan Source, CVE-2021-42574). Invisible characters are escaped too, so
 * that two names that look alike in a log are told apart.
 */
public final class LogText {

  private LogText() {}

  /**
   * True for every control character (C0, DEL, C1 with U+0085 NEXT LINE), the line and paragraph
   * separators U+2028 and U+2029, every invisible format character (Unicode category Cf: the
   * bidi controls U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, zero-width characters,
   * the byte order mark, tag characters), and a surrogate that is not half of a pair.
   */
  public static boolean unsafe(int codePoint) {
    if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f)) {
      return true;
    }
    int type = Character.getType(codePoint);
    return type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR
        || type == Character.FORMAT || type == Character.SURROGATE;
  }

  /**
   * Appends {@code codePoint} escaped: below U+0080 (control characters) a backslash, {@code x}
   * and two hex digits, as the text log always wrote them; up to U+FFFF a backslash, {@code u}
   * and four hex digits (U+2028 becomes backslash-u2028); above, a backslash, {@code U} and eight.
   */
  public static void appendEscaped(StringBuilder out, int codePoint) {
    if (codePoint < 0x80) {
      out.append(String.format("\\x%02x", codePoint));
    } else if (codePoint <= 0xffff) {
      out.append(String.format("\\u%04x", codePoint));
    } else {
      out.append(String.format("\\U%08x", codePoint));
    }
  }

  /**
   * {@code text} with every {@link #unsafe} character escaped and everything else, backslashes
   * included, as it is: for free text such as a log message, whose already escaped parts must
   * not be escaped twice. Null stays null.
   */
  public static String oneLine(String text) {
    if (text == null) {
      return null;
    }
    int i = 0;
    while (i < text.length() && !unsafe(text.codePointAt(i))) {
      i += Character.charCount(text.codePointAt(i));
    }
    if (i == text.length()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, i);
    while (i < text.length()) {
      int cp = text.codePointAt(i);
      if (unsafe(cp)) {
        appendEscaped(out, cp);
      } else {
        out.appendCodePoint(cp);
      }
      i += Character.charCount(cp);
    }
    return out.toString();
  }
}
