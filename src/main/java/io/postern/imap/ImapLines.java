package io.postern.imap;

import java.util.Locale;

/** Small readers for backend response lines. */
final class ImapLines {

  private ImapLines() {}

  /** The bracketed response code at the start of {@code text}, without brackets; or null. */
  static String code(String text) {
    if (!text.startsWith("[")) {
      return null;
    }
    int close = text.indexOf(']');
    return close < 0 ? null : text.substring(1, close);
  }

  /** The first word of a code, upper case ({@code CAPABILITY}, {@code AUTHENTICATIONFAILED}). */
  static String codeName(String code) {
    if (code == null) {
      return null;
    }
    int space = code.indexOf(' ');
    return (space < 0 ? code : code.substring(0, space)).toUpperCase(Locale.ROOT);
  }

  /** The length of a literal announced at the end of a server line, or -1. */
  static long literalAtEnd(String line) {
    if (!line.endsWith("}")) {
      return -1;
    }
    int open = line.lastIndexOf('{');
    if (open < 0 || line.length() - open > 12) {
      return -1;
    }
    String digits = line.substring(open + 1, line.length() - 1);
    if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Long.parseLong(digits);
  }

  /** True for bytes that may go inside a quoted string without a charset question. */
  static boolean quotable(byte[] value) {
    for (byte b : value) {
      if (b < 0x20 || b > 0x7e) {
        return false;
      }
    }
    return true;
  }

  static String quote(byte[] value) {
    StringBuilder out = new StringBuilder(value.length + 2).append('"');
    for (byte b : value) {
      if (b == '"' || b == '\\') {
        out.append('\\');
      }
      out.append((char) b);
    }
    return out.append('"').toString();
  }
}
