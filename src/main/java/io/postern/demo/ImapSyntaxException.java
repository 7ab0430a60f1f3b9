package io.postern.demo;

/** A command the server cannot understand; its message becomes the text of a tagged BAD. */
final class ImapSyntaxException extends Exception {

  ImapSyntaxException(String message) {
    super(message, null, false, false);
  }
}
