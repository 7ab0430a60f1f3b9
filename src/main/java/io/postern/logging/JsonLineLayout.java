package io.postern.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per log line: {@code time}, {@code level}, {@code logger}, {@code message},
 * then the event's key-value pairs as top-level fields (numbers stay numbers), and
 * {@code exception} with the stack trace when there is one. The line is pure ASCII: every other
 * character is escaped as a backslash, {@code u} and four hex digits.
 */
public final class JsonLineLayout extends LayoutBase<ILoggingEvent> {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);

  @Override
  public String doLayout(ILoggingEvent event) {
    StringBuilder out = new StringBuilder(256);
    out.append("{\"time\":");
    string(out, TIME.format(Instant.ofEpochMilli(event.getTimeStamp())));
    out.append(",\"level\":");
    string(out, event.getLevel().toString());
    out.append(",\"logger\":");
    string(out, event.getLoggerName());
    out.append(",\"message\":");
    string(out, event.getFormattedMessage());
    if (event.getKeyValuePairs() != null) {
      for (KeyValuePair pair : event.getKeyValuePairs()) {
        out.append(',');
        string(out, pair.key);
        out.append(':');
        if (pair.value == null) {
          out.append("null");
        } else if (pair.value instanceof Long || pair.value instanceof Integer) {
          out.append(pair.value);
        } else if (pair.value instanceof Double d && Double.isFinite(d)) {
          out.append(d);
        } else {
          string(out, String.valueOf(pair.value));
        }
      }
    }
    if (event.getThrowableProxy() != null) {
      out.append(",\"exception\":");
      string(out, ThrowableProxyUtil.asString(event.getThrowableProxy()));
    }
    return out.append('}').append(CoreConstants.LINE_SEPARATOR).toString();
  }

  /** A JSON string: quotes, backslashes and every control character escaped (RFC 8259 §7). */
  static void string(StringBuilder out, String s) {
    if (s == null) {
      out.append("null");
      return;
    }
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          // Everything outside printable ASCII is escaped: the line is right whatever the
          // platform charset, and a lone surrogate cannot make it invalid UTF-8.
          if (c < 0x20 || c > 0x7e) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
