package io.postern.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A listener's {@code capabilities}: the backend extensions its clients are told of before
 * login, in place of what the health checks learned. Postern's own (STARTTLS, AUTH=, SASL,
 * USER...) depend on the connection's TLS state and are never configured here.
 */
final class ListenerCapabilities {

  private static final int MAX_LENGTH = 100;
  /** RFC 9051 ATOM-CHAR: printable ASCII except atom-specials. */
  private static final Pattern IMAP_ATOM = Pattern.compile("[\\x21-\\x7e&&[^(){%*\"\\\\\\]]]+");
  /** RFC 2449 capability line: a keyword, then parameters, each separated by one space. */
  private static final Pattern POP3_LINE =
      Pattern.compile("[A-Z0-9][A-Z0-9._-]*( [\\x21-\\x7e]+)*");
  private static final Set<String> IMAP_OWN =
      Set.of("IMAP4REV1", "STARTTLS", "LOGINDISABLED", "SASL-IR", "ID", "LITERAL+");
  private static final Set<String> POP3_OWN =
      Set.of("STLS", "USER", "SASL", "IMPLEMENTATION", "RESP-CODES", "AUTH-RESP-CODE");
  /** Commands RFC 6856 allows before login, which Postern does not answer. */
  private static final Set<String> POP3_NOT_BEFORE_LOGIN = Set.of("UTF8", "LANG");

  private ListenerCapabilities() {}

  /**
   * The list under {@code capabilities}, upper case; null when absent (or when the listener's
   * protocol is unknown, an error of its own). Errors go to {@code s}.
   */
  static List<String> parse(ConfigSection s, Protocol protocol) {
    List<String> values = s.strings("capabilities");
    if (values == null || protocol == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      String key = "capabilities[" + i + "]";
      String value = values.get(i).trim().toUpperCase(Locale.ROOT);
      String problem = problem(value, protocol);
      if (problem != null) {
        s.error(key, "'" + printable(values.get(i)) + "' " + problem);
      } else if (!out.contains(value)) {
        out.add(value);
      }
    }
    return out;
  }

  private static String problem(String value, Protocol protocol) {
    if (value.isEmpty() || value.length() > MAX_LENGTH) {
      return "must be 1 to " + MAX_LENGTH + " characters";
    }
    String keyword = value.split(" ", 2)[0];
    if (protocol == Protocol.IMAP) {
      if (!IMAP_ATOM.matcher(value).matches()) {
        return "is not an IMAP atom (printable ASCII without spaces or ( ) { % * \" \\ ])";
      }
      if (IMAP_OWN.contains(value) || value.startsWith("AUTH=")) {
        return "is Postern's own: it is announced as the listener's TLS and auth settings allow";
      }
    } else {
      if (!POP3_LINE.matcher(value).matches()) {
        return "is not a POP3 capability line (a keyword, then parameters separated by one"
            + " space, printable ASCII)";
      }
      if (POP3_OWN.contains(keyword)) {
        return "is Postern's own: it is announced as the listener's TLS and auth settings allow";
      }
      if (POP3_NOT_BEFORE_LOGIN.contains(keyword)) {
        return "cannot be announced: Postern does not answer " + keyword + " before login";
      }
    }
    if (keyword.equals("XCLIENT")) {
      return "is for proxies talking to backends, not for clients";
    }
    return null;
  }

  private static String printable(String text) {
    return text.replaceAll("[\\x00-\\x1f\\x7f]", "?");
  }
}
