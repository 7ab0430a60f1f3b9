package io.postern.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import io.postern.config.LoggingConfig;
import io.postern.session.SessionLog;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@code logging.format: json}: what lands on standard output is one JSON object per line, and
 * the session line's fields are top-level keys a log shipper can index.
 */
class JsonLogTest {

  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private OutputStreamAppender<ILoggingEvent> appender;

  @BeforeEach
  void attach() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LayoutWrappingEncoder<ILoggingEvent> text = new LayoutWrappingEncoder<>();
    ch.qos.logback.classic.PatternLayout pattern = new ch.qos.logback.classic.PatternLayout();
    pattern.setContext(context);
    pattern.setPattern("%msg%n");
    pattern.start();
    text.setContext(context);
    text.setLayout(pattern);
    text.start();
    appender = new OutputStreamAppender<>();
    appender.setContext(context);
    appender.setName("json-test");
    appender.setEncoder(text);
    appender.setOutputStream(printed);
    appender.start();
    root().addAppender(appender);
  }

  @AfterEach
  void detach() {
    LogFormat.apply(LoggingConfig.Format.TEXT);
    root().detachAppender(appender);
    appender.stop();
  }

  @Test
  void theSessionLineShouldBeOneJsonObjectWithTypedFields() {
    LogFormat.apply(LoggingConfig.Format.JSON);
    SessionLog.write(entry("bob"));
    List<String> lines = lines();
    assertThat(lines).hasSize(1);
    JsonObject line = new JsonObject(lines.get(0));
    assertThat(line.getString("logger")).isEqualTo("postern.session");
    assertThat(line.getString("level")).isEqualTo("INFO");
    // The message keeps the text form, for appenders that drop key-value pairs.
    assertThat(line.getString("message")).startsWith("session=0123456789ab listener=imaps");
    assertThat(line.getString("time")).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    assertThat(line.getString("session")).isEqualTo("0123456789ab");
    assertThat(line.getString("listener")).isEqualTo("imaps");
    assertThat(line.getString("protocol")).isEqualTo("imap");
    assertThat(line.getString("client")).isEqualTo("192.0.2.7:50123");
    assertThat(line.getString("tls")).isEqualTo("TLSv1.3");
    assertThat(line.getString("user")).isEqualTo("bob");
    assertThat(line.getString("backend")).isEqualTo("default");
    assertThat(line.getString("result")).isEqualTo("ended_by_client");
    assertThat(line.getDouble("duration")).isEqualTo(12.345);
    assertThat(line.getLong("to_client")).isEqualTo(123456789L);
    assertThat(line.getLong("to_backend")).isEqualTo(42L);
  }

  @Test
  void aHostileUserNameShouldStayInsideItsJsonString() {
    LogFormat.apply(LoggingConfig.Format.JSON);
    String hostile = "eve\"}\n{\"level\":\"ERROR\",\"user\":\"root\\\u0000\u2028x";
    SessionLog.write(entry(hostile));
    List<String> lines = lines();
    assertThat(lines).hasSize(1);
    JsonObject line = new JsonObject(lines.get(0));
    assertThat(line.getString("user")).isEqualTo(hostile);
    assertThat(line.getString("level")).isEqualTo("INFO");
  }

  @Test
  void everythingBeyondAsciiShouldBeEscapedAndSurvive() {
    LogFormat.apply(LoggingConfig.Format.JSON);
    String user = "jörg😀\u2028\ud800";
    SessionLog.write(entry(user));
    String raw = lines().get(0);
    assertThat(raw.chars().allMatch(c -> c >= 0x20 && c < 0x7f)).as(raw).isTrue();
    assertThat(new JsonObject(raw).getString("user")).isEqualTo(user);
  }

  @Test
  void aLongNameShouldBeCutWithoutSplittingACharacter() {
    LogFormat.apply(LoggingConfig.Format.JSON);
    String user = "a".repeat(63) + "😀😀";
    SessionLog.write(entry(user));
    assertThat(new JsonObject(lines().get(0)).getString("user"))
        .isEqualTo("a".repeat(63) + "...");
  }

  @Test
  void aNullMessageShouldStillBeALine() {
    LogFormat.apply(LoggingConfig.Format.JSON);
    LoggerFactory.getLogger("io.postern.Test").warn((String) null);
    JsonObject line = new JsonObject(lines().get(0));
    assertThat(line.containsKey("message")).isTrue();
    assertThat(line.getString("message")).isNull();
  }

  @Test
  void appendersBehindAnAsyncAppenderShouldWriteJsonToo() throws Exception {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    root().detachAppender(appender);
    ch.qos.logback.classic.AsyncAppender async = new ch.qos.logback.classic.AsyncAppender();
    async.setContext(context);
    async.addAppender(appender);
    async.start();
    root().addAppender(async);
    try {
      LogFormat.apply(LoggingConfig.Format.JSON);
      SessionLog.write(entry("bob"));
    } finally {
      async.stop();
      root().detachAppender(async);
      root().addAppender(appender);
    }
    assertThat(new JsonObject(lines().get(0)).getString("user")).isEqualTo("bob");
  }

  @Test
  void otherLinesAndExceptionsShouldBeJsonToo() {
    LogFormat.apply(LoggingConfig.Format.JSON);
    LoggerFactory.getLogger("io.postern.Test").warn("disk {} is full", "/var",
        new IllegalStateException("boom"));
    JsonObject line = new JsonObject(lines().get(0));
    assertThat(line.getString("message")).isEqualTo("disk /var is full");
    assertThat(line.getString("level")).isEqualTo("WARN");
    assertThat(line.getString("exception")).contains("IllegalStateException: boom");
  }

  @Test
  void textShouldComeBackWithTheConfiguredPattern() {
    LogFormat.apply(LoggingConfig.Format.JSON);
    LogFormat.apply(LoggingConfig.Format.TEXT);
    SessionLog.write(entry("bob"));
    assertThat(lines()).containsExactly("session=0123456789ab listener=imaps"
        + " client=192.0.2.7:50123 tls=TLSv1.3 user=bob backend=default server=10.0.0.5"
        + " result=ended_by_client"
        + " duration=12.345s to_client=123456789 to_backend=42 protocol=imap");
  }

  private static SessionLog.Entry entry(String user) {
    return new SessionLog.Entry("0123456789ab", "imaps", "imap", "192.0.2.7:50123", "TLSv1.3",
        user, "default", "ended_by_client", Duration.ofMillis(12_345), 123_456_789L, 42L,
        "10.0.0.5");
  }

  private List<String> lines() {
    return printed.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
