package io.postern.session;

import io.postern.logging.LogFormat;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * A structured log line: {@code key=value} pairs in text (client-controlled values quoted and
 * escaped, so a user name cannot forge a field or a line), top-level JSON fields in json.
 */
final class LogLine {

  private record Pair(String key, Object value, int max) {}

  private final List<Pair> pairs = new ArrayList<>();

  /** A string field, cut at {@code max} characters; null or empty shows as {@code -}. */
  LogLine text(String key, String value, int max) {
    pairs.add(new Pair(key, value, max));
    return this;
  }

  LogLine text(String key, String value) {
    return text(key, value, 64);
  }

  LogLine number(String key, long value) {
    pairs.add(new Pair(key, value, 0));
    return this;
  }

  /** Seconds with millisecond precision. */
  LogLine seconds(String key, java.time.Duration value) {
    pairs.add(new Pair(key, value.toMillis() / 1000.0, 0));
    return this;
  }

  /**
   * The message is always the text form ({@code prefix}, if any, then the pairs), so an appender
   * that knows nothing of key-value pairs (a custom Logback configuration) still gets every
   * field. With {@code logging.format: json} the pairs also go out as typed top-level fields.
   */
  void info(Logger log, String prefix) {
    if (!log.isInfoEnabled()) {
      return;
    }
    if (LogFormat.json()) {
      LoggingEventBuilder line = log.atInfo();
      for (Pair p : pairs) {
        line = line.addKeyValue(p.key(), p.value() instanceof String s
            ? SessionLog.cut(s, p.max()) : p.value());
      }
      line.log(text(prefix));
    } else {
      log.info(text(prefix));
    }
  }

  String text(String prefix) {
    StringBuilder out = new StringBuilder(prefix == null ? "" : prefix + " ");
    for (Pair p : pairs) {
      if (out.length() > 0 && out.charAt(out.length() - 1) != ' ') {
        out.append(' ');
      }
      out.append(p.key()).append('=');
      if (p.value() instanceof Double d) {
        appendSeconds(out, d);
      } else if (p.value() instanceof Long n) {
        out.append(n);
      } else {
        out.append(SessionLog.value((String) p.value(), p.max()));
      }
    }
    return out.toString();
  }

  /** {@code %.3fs} without java.util.Formatter (one per session line, on the event loop). */
  static void appendSeconds(StringBuilder out, double seconds) {
    long millis = Math.round(seconds * 1000);
    if (millis < 0) {
      out.append('-');
      millis = -millis;
    }
    long fraction = millis % 1000;
    out.append(millis / 1000).append('.');
    if (fraction < 100) {
      out.append(fraction < 10 ? "00" : "0");
    }
    out.append(fraction).append('s');
  }
}
