package io.postern.session;

import io.postern.logging.LogText;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one line written when a session ends (DESIGN.md §7), as {@code key=value} pairs. Values a
 * client controls are sanitised, so a user name cannot forge a second line or another key.
 */
public final class SessionLog {

  private static final Logger LOG = LoggerFactory.getLogger("postern.session");

  /** Everything the line reports; never a password, a SASL response or an auth-service body. */
  public record Entry(String session, String listener, String protocol, String client,
      String tls, String user, String backend, String result, Duration duration, long toClient,
      long toBackend, String server) {}

  private SessionLog() {}

  public static void write(Entry e) {
    line(e).info(LOG, null);
  }

  /** The text form of the line. */
  public static String format(Entry e) {
    return line(e).text(null);
  }

  private static LogLine line(Entry e) {
    return new LogLine()
        .text("session", e.session())
        .text("listener", e.listener())
        .text("client", e.client())
        .text("tls", e.tls())
        .text("user", e.user())
        .text("backend", e.backend())
        .text("server", e.server())
        .text("result", e.result())
        .seconds("duration", e.duration())
        .number("to_client", e.toClient())
        .number("to_backend", e.toBackend())
        .text("protocol", e.protocol());
  }

  /** At most {@code max} characters and "...", never splitting a surrogate pair. */
  static String cut(String raw, int max) {
    if (raw.length() <= max) {
      return raw;
    }
    int end = Character.isHighSurrogate(raw.charAt(max - 1)) ? max - 1 : max;
    return raw.substring(0, end) + "...";
  }

  /**
   * {@code -} for absent; quoted with escapes when not a plain token ({@link LogText#unsafe}
   * characters, quotes, backslashes); at most 64 characters.
   */
  public static String value(String raw) {
    return value(raw, 64);
  }

  /** As {@link #value(String)}, cut at {@code max} characters. */
  public static String value(String raw, int max) {
    if (raw == null || raw.isEmpty()) {
      return "-";
    }
    String s = cut(raw, max);
    boolean plain = true;
    for (int i = 0; i < s.length() && plain; i++) {
      char c = s.charAt(i);
      plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
    }
    if (plain) {
      return s;
    }
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i += Character.charCount(s.codePointAt(i))) {
      int c = s.codePointAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append((char) c);
      } else if (LogText.unsafe(c)) {
        // Controls as backslash-xNN; Unicode line breaks, bidi and invisible ones backslash-uNNNN.
        LogText.appendEscaped(out, c);
      } else {
        out.appendCodePoint(c);
      }
    }
    return out.append('"').toString();
  }
}
