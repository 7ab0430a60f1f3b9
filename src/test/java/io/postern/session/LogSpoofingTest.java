package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import io.postern.config.LoggingConfig;
import io.postern.logging.LogFormat;
import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A client cannot forge or disguise a log line with its user name: Unicode line and paragraph
 * separators, C1 controls and bidi controls sent in a real login come out escaped, in one line,
 * in the text and the JSON format.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LogSpoofingTest {

  /** NEL, the C1 range's ends, LS, PS, every bidi control, and two invisible characters. */
  private static final int[] HOSTILE = {0x85, 0x80, 0x9f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c,
      0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c, 0x200b, 0xfeff};

  @TempDir
  static Path dir;

  private PosternFixture postern;
  private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
  private OutputStreamAppender<ILoggingEvent> appender;

  @BeforeAll
  void start() throws Exception {
    postern = PosternFixture.builder(dir).user("alice", "pw").start();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
  }

  /** Prints the bare message, as a custom Logback configuration with {@code %msg} would. */
  @BeforeEach
  void attach() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayout pattern = new PatternLayout();
    pattern.setContext(context);
    pattern.setPattern("%msg%n");
    pattern.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(pattern);
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();
    appender = new OutputStreamAppender<>();
    appender.setContext(context);
    appender.setName("spoofing-test");
    appender.setEncoder(encoder);
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
  void hostileCharactersInAUserNameShouldBeEscapedInTheTextLog() throws Exception {
    for (int c : HOSTILE) {
      String user = "eve" + Character.toString(c) + "x";
      List<String> lines = loginAndLog(user);
      String escaped = String.format("\\u%04x", c);
      assertThat(lines).as("U+%04X", c).hasSize(2);
      assertThat(lines.get(0)).as("U+%04X", c)
          .startsWith("login failed: session=")
          .contains(" user=\"eve" + escaped + "x\" ");
      assertThat(lines.get(1)).as("U+%04X", c)
          .startsWith("session=")
          .contains(" user=\"eve" + escaped + "x\" ");
      for (String line : lines) {
        assertThat(line.codePoints()).as("U+%04X", c).doesNotContain(c);
      }
    }
  }

  @Test
  void hostileCharactersInAUserNameShouldBeEscapedInTheJsonLog() throws Exception {
    LogFormat.apply(LoggingConfig.Format.JSON);
    for (int c : HOSTILE) {
      String user = "eve" + Character.toString(c) + "x";
      List<String> lines = loginAndLog(user);
      assertThat(lines).as("U+%04X", c).hasSize(2);
      for (String line : lines) {
        assertThat(line).as("U+%04X", c).contains(String.format("eve\\u%04xx", c));
        assertThat(line.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f)).as(line).isTrue();
        JsonObject json = new JsonObject(line);
        assertThat(json.getString("user")).isEqualTo(user);
        // The message keeps the text form, escaped as in the text log.
        assertThat(json.getString("message")).contains(String.format("\\u%04x", c))
            .doesNotContain(Character.toString(c));
      }
    }
  }

  /**
   * One failed login as {@code user} (SASL PLAIN, so the name is any UTF-8), then the session's
   * end: the two lines printed for it (the failed login, then the session line).
   */
  private List<String> loginAndLog(String user) throws Exception {
    printed.reset();
    byte[] plain = ("\0" + user + "\0wrong").getBytes(StandardCharsets.UTF_8);
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a AUTHENTICATE PLAIN " + Base64.getEncoder().encodeToString(plain) + "\r\n");
      c.expect("a NO");
      c.send("b LOGOUT\r\n");
      c.expect("* BYE");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> lines().stream()
        .anyMatch(l -> l.startsWith("session=") || l.contains("\"logger\":\"postern.session\"")));
    return lines().stream().filter(l -> l.contains("session=") || l.contains("\"session\""))
        .toList();
  }

  private List<String> lines() {
    // Split at LF only: a raw U+2028 inside a line must show up as a bad line, not two.
    return List.of(printed.toString(StandardCharsets.UTF_8).split("\n", -1)).stream()
        .filter(l -> !l.isEmpty()).toList();
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }
}
