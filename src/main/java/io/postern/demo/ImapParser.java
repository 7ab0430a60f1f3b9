package io.postern.demo;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns one complete command (literals inlined as {@code {n}CRLF<n bytes>}) into an {@link
 * ImapCommand}.
 *
 * <p>Brackets are part of an atom, spaces and parentheses included, because fetch items such as
 * {@code BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>} are a single argument.
 */
final class ImapParser {

  /** Deep enough for any real SEARCH, shallow enough that recursion cannot exhaust the stack. */
  private static final int MAX_DEPTH = 16;

  private final byte[] in;
  private int pos;

  private ImapParser(byte[] in) {
    this.in = in;
  }

  /** The tag of a command line, or null if the line does not start with a valid one. */
  static String tagOf(byte[] line) {
    int end = 0;
    while (end < line.length && line[end] != ' ') {
      end++;
    }
    String tag = new String(line, 0, end, StandardCharsets.ISO_8859_1);
    return validTag(tag) ? tag : null;
  }

  static ImapCommand parse(byte[] command) throws ImapSyntaxException {
    String tag = tagOf(command);
    if (tag == null) {
      throw new ImapSyntaxException("Missing or invalid tag.");
    }
    ImapParser parser = new ImapParser(command);
    parser.pos = tag.length();
    if (!parser.skipSpace()) {
      throw new ImapSyntaxException("Missing command.");
    }
    String name = parser.atom();
    List<ImapToken> args = parser.tokens(0);
    return new ImapCommand(tag, name.toUpperCase(Locale.ROOT), args);
  }

  private static boolean validTag(String tag) {
    if (tag.isEmpty()) {
      return false;
    }
    for (char c : tag.toCharArray()) {
      if (c <= ' ' || c >= 0x7f || "(){%*\"\\+".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }

  private boolean skipSpace() {
    if (pos < in.length && in[pos] == ' ') {
      pos++;
      return true;
    }
    return false;
  }

  private List<ImapToken> tokens(int depth) throws ImapSyntaxException {
    if (depth > MAX_DEPTH) {
      throw new ImapSyntaxException("Nesting too deep.");
    }
    List<ImapToken> tokens = new ArrayList<>();
    while (true) {
      if (pos >= in.length) {
        if (depth > 0) {
          throw new ImapSyntaxException("Missing ')'.");
        }
        return tokens;
      }
      byte c = in[pos];
      if (c == ' ') {
        pos++;
      } else if (c == ')') {
        if (depth == 0) {
          throw new ImapSyntaxException("Unexpected ')'.");
        }
        pos++;
        return tokens;
      } else if (c == '(') {
        pos++;
        tokens.add(new ImapToken.Group(tokens(depth + 1)));
      } else if (c == '"') {
        tokens.add(new ImapToken.Text(quoted()));
      } else if (c == '{') {
        tokens.add(new ImapToken.Text(literal()));
      } else {
        tokens.add(new ImapToken.Atom(atom()));
      }
    }
  }

  private byte[] quoted() throws ImapSyntaxException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    pos++;
    while (pos < in.length) {
      byte c = in[pos++];
      if (c == '"') {
        return out.toByteArray();
      }
      if (c == '\r' || c == '\n') {
        break;
      }
      if (c == '\\') {
        if (pos >= in.length || (in[pos] != '"' && in[pos] != '\\')) {
          throw new ImapSyntaxException("Invalid escape in quoted string.");
        }
        c = in[pos++];
      }
      out.write(c);
    }
    throw new ImapSyntaxException("Unterminated quoted string.");
  }

  private byte[] literal() throws ImapSyntaxException {
    int close = pos;
    while (close < in.length && in[close] != '}') {
      close++;
    }
    String spec = new String(in, pos + 1, Math.max(0, close - pos - 1), StandardCharsets.US_ASCII);
    if (spec.endsWith("+")) {
      spec = spec.substring(0, spec.length() - 1);
    }
    if (close + 2 >= in.length
        || !spec.matches("\\d{1,9}")
        || in[close + 1] != '\r'
        || in[close + 2] != '\n') {
      throw new ImapSyntaxException("Invalid literal.");
    }
    int size = Integer.parseInt(spec);
    int start = close + 3;
    if (start + size > in.length) {
      throw new ImapSyntaxException("Literal is shorter than announced.");
    }
    pos = start + size;
    byte[] bytes = new byte[size];
    System.arraycopy(in, start, bytes, 0, size);
    return bytes;
  }

  private String atom() throws ImapSyntaxException {
    int start = pos;
    int brackets = 0;
    while (pos < in.length) {
      byte c = in[pos];
      if (c == '\r' || c == '\n' || c == 0) {
        throw new ImapSyntaxException("Invalid character.");
      }
      if (brackets == 0 && (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{')) {
        break;
      }
      if (c == '[') {
        brackets++;
      } else if (c == ']' && brackets > 0) {
        brackets--;
      }
      pos++;
    }
    if (brackets > 0) {
      throw new ImapSyntaxException("Missing ']'.");
    }
    if (pos == start) {
      throw new ImapSyntaxException("Expected an atom.");
    }
    return new String(in, start, pos - start, StandardCharsets.UTF_8);
  }
}
