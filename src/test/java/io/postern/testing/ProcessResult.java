package io.postern.testing;

import java.nio.charset.StandardCharsets;

/**
 * What a finished {@link ExternalCommand} left behind. stdout and stderr are decoded as
 * ISO-8859-1, so {@code stdout.getBytes(ISO_8859_1)} gives back exactly the bytes the process wrote.
 */
public record ProcessResult(int exitCode, String stdout, String stderr) {

  /** stdout read as the UTF-8 text a program meant, e.g. a hash of a non-ASCII password. */
  public String stdoutUtf8() {
    return new String(stdout.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  /** For assertion messages. */
  @Override
  public String toString() {
    return "exit " + exitCode + ", stdout: " + abbreviate(stdout) + ", stderr: " + abbreviate(stderr);
  }

  private static String abbreviate(String text) {
    return text.length() <= 4000 ? text : text.substring(0, 4000) + "...(" + text.length() + " chars)";
  }
}
