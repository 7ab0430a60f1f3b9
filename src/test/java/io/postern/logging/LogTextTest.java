package io.postern.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.postern.session.SessionLog;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** What a text log line may carry raw, and how the rest is written. */
class LogTextTest {

  @Test
  void aLoneSurrogateAndSupplementaryFormatCharactersShouldBeEscaped() {
    assertThat(SessionLog.value("a\ud800b")).isEqualTo("\"a\\ud800b\"");
    assertThat(SessionLog.value("a\udc00")).isEqualTo("\"a\\udc00\"");
    // A tag character (U+E0001, category Cf) is invisible: escaped as a whole code point.
    assertThat(SessionLog.value("a\udb40\udc01")).isEqualTo("\"a\\U000e0001\"");
  }

  @Test
  void printableTextBeyondAsciiShouldStayReadable() {
    assertThat(SessionLog.value("jörg😀")).isEqualTo("\"jörg😀\"");
    assertThat(SessionLog.value("ΑΒΓ")).isEqualTo("\"ΑΒΓ\"");
  }

  @Test
  void controlCharactersShouldKeepTheirShortForm() {
    assertThat(SessionLog.value("a\nb\u0000\u007f\"\\")).isEqualTo("\"a\\x0ab\\x00\\x7f\\\"\\\\\"");
  }

  @Test
  void theTextPatternShouldKeepAnyMessageOnOneLine() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    // As in the shipped logback.xml, which registers the conversion word.
    layout.setPattern("%oneLineMsg");
    layout.start();
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    Logger logger = (Logger) LoggerFactory.getLogger("io.postern.LogTextTest");
    logger.addAppender(events);
    try {
      logger.warn("peer said {}", "x\u2028INFO forged\r\nline\u202e\u0085 \\u2028");
    } finally {
      logger.detachAppender(events);
    }
    assertThat(layout.doLayout(events.list.get(0)))
        .isEqualTo("peer said x\\u2028INFO forged\\x0d\\x0aline\\u202e\\u0085 \\u2028");
  }
}
