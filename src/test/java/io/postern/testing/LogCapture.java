package io.postern.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects every log line Postern writes while active, formatted as it would be printed. */
public final class LogCapture {

  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture() {}

  public static LogCapture start() {
    LogCapture capture = new LogCapture();
    capture.appender.start();
    root().addAppender(capture.appender);
    return capture;
  }

  /** Every captured message, with the stack trace text of any attached exception. */
  public List<String> lines() {
    // ListAppender appends under its own lock (AppenderBase.doAppend is synchronized).
    synchronized (appender) {
      return appender.list.stream().map(e -> e.getFormattedMessage()
          + (e.getThrowableProxy() == null ? ""
          : " " + ch.qos.logback.classic.spi.ThrowableProxyUtil.asString(e.getThrowableProxy())))
          .toList();
    }
  }

  public void stop() {
    root().detachAppender(appender);
    appender.stop();
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
