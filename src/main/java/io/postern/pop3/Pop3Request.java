package io.postern.pop3;

import io.postern.credentials.Secret;
import io.postern.sasl.SaslInitialResponse;
import java.nio.charset.StandardCharsets;

/** The commands Postern answers in the POP3 AUTHORIZATION state. */
public sealed interface Pop3Request {

  record Capa() implements Pop3Request {}

  record Stls() implements Pop3Request {}

  record User(String name) implements Pop3Request {}

  record Pass(Secret password) implements Pop3Request {}

  /** {@code AUTH} alone lists the mechanisms; {@code initialResponse} is null without one. */
  record Auth(String mechanism, byte[] initialResponse) implements Pop3Request {
    @Override
    public String toString() {
      return "Auth[mechanism=" + mechanism + "]";
    }
  }

  record Quit() implements Pop3Request {}

  /** A command that is unknown or not valid before login, or has bad arguments. */
  record Invalid(String message) implements Pop3Request {}

  /** Parses one command line (without its line end). */
  static Pop3Request parse(byte[] line) {
    for (byte b : line) {
      if (b == 0 || b == '\r') {
        return new Invalid("Invalid characters in command.");
      }
    }
    String text = new String(line, StandardCharsets.UTF_8);
    int space = text.indexOf(' ');
    String keyword = asciiUpper(space < 0 ? text : text.substring(0, space));
    String argument = space < 0 ? null : text.substring(space + 1);
    return switch (keyword) {
      case "CAPA" -> argument == null ? new Capa() : new Invalid("CAPA takes no argument.");
      case "STLS" -> argument == null ? new Stls() : new Invalid("STLS takes no argument.");
      case "QUIT" -> argument == null ? new Quit() : new Invalid("QUIT takes no argument.");
      case "USER" -> argument == null || argument.isEmpty() || argument.indexOf(' ') >= 0
          ? new Invalid("USER takes one argument.") : new User(argument);
      // RFC 1939 leaves spaces in the password to the server; the rest of the line is the
      // password, as Dovecot reads it. Raw bytes, so no charset round trip alters it.
      case "PASS" -> argument == null
          ? new Invalid("PASS takes one argument.")
          : new Pass(Secret.of(java.util.Arrays.copyOfRange(line, space + 1, line.length)));
      case "AUTH" -> auth(argument);
      default -> new Invalid("Unknown command.");
    };
  }

  private static Pop3Request auth(String argument) {
    if (argument == null) {
      return new Auth(null, null);
    }
    String[] parts = argument.split(" ", -1);
    if (parts.length > 2 || parts[0].isEmpty()) {
      return new Invalid("AUTH takes a mechanism and an optional initial response.");
    }
    byte[] initial = parts.length == 2 ? SaslInitialResponse.bytes(parts[1]) : null;
    return new Auth(asciiUpper(parts[0]), initial);
  }

  /**
   * Upper case in ASCII only, as keywords and mechanism names are: Unicode case mapping would
   * read "PAſſ" as PASS (and then take the password from the wrong byte).
   */
  private static String asciiUpper(String word) {
    char[] chars = word.toCharArray();
    for (int i = 0; i < chars.length; i++) {
      if (chars[i] >= 'a' && chars[i] <= 'z') {
        chars[i] -= 'a' - 'A';
      }
    }
    return new String(chars);
  }
}
