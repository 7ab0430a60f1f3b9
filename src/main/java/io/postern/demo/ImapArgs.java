package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/** A cursor over command arguments that turns missing or mistyped ones into BAD responses. */
final class ImapArgs {

  private final List<ImapToken> tokens;
  private int next;

  ImapArgs(List<ImapToken> tokens) {
    this.tokens = tokens;
  }

  boolean hasNext() {
    return next < tokens.size();
  }

  ImapToken next() throws ImapSyntaxException {
    if (!hasNext()) {
      throw new ImapSyntaxException("Missing argument.");
    }
    return tokens.get(next++);
  }

  /** The next argument as an atom, upper-cased, for keywords such as fetch items. */
  String keyword() throws ImapSyntaxException {
    if (next() instanceof ImapToken.Atom atom) {
      return atom.value().toUpperCase(Locale.ROOT);
    }
    throw new ImapSyntaxException("Expected an atom.");
  }

  /** The next argument as an astring (atom, quoted string or literal), UTF-8 decoded. */
  String astring() throws ImapSyntaxException {
    return new String(astringBytes(), StandardCharsets.UTF_8);
  }

  byte[] astringBytes() throws ImapSyntaxException {
    ImapToken token = next();
    if (token instanceof ImapToken.Atom atom) {
      return atom.value().getBytes(StandardCharsets.UTF_8);
    }
    if (token instanceof ImapToken.Text text) {
      return text.bytes();
    }
    throw new ImapSyntaxException("Expected a string.");
  }

  ImapToken.Group group() throws ImapSyntaxException {
    if (next() instanceof ImapToken.Group group) {
      return group;
    }
    throw new ImapSyntaxException("Expected a parenthesized list.");
  }

  /** All arguments not consumed yet. */
  List<ImapToken> rest() {
    List<ImapToken> rest = tokens.subList(next, tokens.size());
    next = tokens.size();
    return rest;
  }

  void end() throws ImapSyntaxException {
    if (hasNext()) {
      throw new ImapSyntaxException("Too many arguments.");
    }
  }
}
