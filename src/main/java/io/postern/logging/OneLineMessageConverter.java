package io.postern.logging;

import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;

/**
 * {@code %oneLineMsg} in {@code logback.xml}: the message with every {@link LogText#unsafe}
 * character escaped, so that no message, whatever text it was given (Postern's own lines
 * escape client text already; a library's may not), can break a text log line or turn it
 * around. Already escaped text passes unchanged. The JSON layout escapes on its own.
 */
public final class OneLineMessageConverter extends MessageConverter {

  @Override
  public String convert(ILoggingEvent event) {
    return LogText.oneLine(super.convert(event));
  }
}
