package io.postern.auth;

/**
 * A passwd-file line that cannot be used. The message is always {@code <source>:<line>: <what>}
 * and never contains a password, a hash or a {@code pass=} value.
 */
public final class PasswdFileException extends Exception {

  private static final long serialVersionUID = 1L;

  private final int line;

  PasswdFileException(String sourceName, int line, String what) {
    this(sourceName + ":" + line + ": " + what, line);
  }

  /** For checks made after parsing (e.g. unknown backends); the caller keeps the message format. */
  PasswdFileException(String message, int line) {
    super(message);
    this.line = line;
  }

  /** The 1-based line number in the file. */
  public int line() {
    return line;
  }
}
