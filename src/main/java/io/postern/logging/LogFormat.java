package io.postern.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.AppenderAttachable;
import io.postern.config.LoggingConfig;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.Iterator;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The process-wide shape of log lines ({@code logging.format}). In {@code json}, every line on
 * standard output is one JSON object, and structured lines (the session line, failed logins)
 * carry their fields as top-level keys rather than inside a message string.
 */
public final class LogFormat {

  private static volatile LoggingConfig.Format current = LoggingConfig.Format.TEXT;
  private static final Map<OutputStreamAppender<ILoggingEvent>, Encoder<ILoggingEvent>>
      configured = new HashMap<>();

  private LogFormat() {}

  public static LoggingConfig.Format current() {
    return current;
  }

  public static boolean json() {
    return current == LoggingConfig.Format.JSON;
  }

  /**
   * Switches the format: for {@code json}, every console and file appender of every logger
   * (also behind an {@code AsyncAppender}) gets the JSON layout; back to {@code text}, they get
   * their configured encoders again.
   */
  public static synchronized void apply(LoggingConfig.Format format) {
    if (format == current
        || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      current = format;
      return;
    }
    current = format;
    Set<OutputStreamAppender<ILoggingEvent>> outputs = new HashSet<>();
    for (Logger logger : context.getLoggerList()) {
      collect(logger.iteratorForAppenders(), outputs);
    }
    for (OutputStreamAppender<ILoggingEvent> out : outputs) {
      Encoder<ILoggingEvent> next;
      if (format == LoggingConfig.Format.JSON) {
        configured.put(out, out.getEncoder());
        next = jsonEncoder(context);
      } else {
        next = configured.remove(out);
      }
      if (next != null) {
        // Not stop()/start(): stopping closes the appender's stream (standard output).
        out.setEncoder(next);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static void collect(Iterator<Appender<ILoggingEvent>> appenders,
      Set<OutputStreamAppender<ILoggingEvent>> into) {
    while (appenders.hasNext()) {
      Appender<ILoggingEvent> appender = appenders.next();
      if (appender instanceof OutputStreamAppender<ILoggingEvent> out) {
        into.add(out);
      } else if (appender instanceof AppenderAttachable<?> wrapper) {
        collect(((AppenderAttachable<ILoggingEvent>) wrapper).iteratorForAppenders(), into);
      }
    }
  }

  private static Encoder<ILoggingEvent> jsonEncoder(LoggerContext context) {
    JsonLineLayout layout = new JsonLineLayout();
    layout.setContext(context);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();
    return encoder;
  }
}
