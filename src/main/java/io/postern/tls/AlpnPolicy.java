package io.postern.tls;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The one application protocol (RFC 7301 ALPN id, {@code imap} or {@code pop3}) a listener speaks.
 * A client that offers ALPN without it was made to talk to another kind of server, e.g. a web
 * browser tricked into sending HTTP to a mail port (ALPACA, USENIX Security 2021): it gets the
 * {@code no_application_protocol} alert. A client that offers no ALPN is served, as mail clients
 * mostly do not offer any.
 *
 * @param protocol the ALPN id of the listener's protocol
 * @param listener the listener's name, for logs
 */
public record AlpnPolicy(String protocol, String listener) {

  private static final int LOGGED_NAMES = 8;
  private static final int LOGGED_NAME_LENGTH = 32;

  /** True when the client may go on: it offered {@link #protocol()} among its protocols. */
  boolean accepts(List<String> offered) {
    return offered.contains(protocol);
  }

  /** The offered names for a log line: client-chosen bytes, shown printable and bounded. */
  static String describe(List<String> offered) {
    return offered.stream().limit(LOGGED_NAMES).map(AlpnPolicy::printable)
        .collect(Collectors.joining(", ", "[", offered.size() > LOGGED_NAMES ? ", ...]" : "]"));
  }

  private static String printable(String name) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < name.length() && i < LOGGED_NAME_LENGTH; i++) {
      char c = name.charAt(i);
      if (c > 0x20 && c < 0x7f && c != '\\' && c != ',' && c != '[' && c != ']') {
        out.append(c);
      } else {
        out.append(String.format("\\x%02x", (int) c));
      }
    }
    if (name.length() > LOGGED_NAME_LENGTH) {
      out.append("...");
    }
    return out.toString();
  }
}
