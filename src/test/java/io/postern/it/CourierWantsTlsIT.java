package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsMode;
import io.postern.testing.Conversation;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Courier that requires TLS before login ({@code IMAP_TLS_REQUIRED=1},
 * {@code POP3_TLS_REQUIRED=1}, the case the issue names) reached by Postern with {@code tls: none}:
 * a configuration error, so the user gets a temporary failure (never "wrong password") and the
 * log says to use STARTTLS; the same server reached with {@code tls: starttls} logs them in.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CourierWantsTlsIT {

  private static final Map<String, String> USERS = Map.of("alice", "alice-pw", "bob", "bob-pw");

  @TempDir
  static Path dir;

  private CourierServer courier;
  private PosternFixture postern;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    logs = LogCapture.start();
    courier = CourierServer.start(dir.resolve("courier"), USERS, true);
    postern = PosternFixture.builder(dir.resolve("postern"))
        .backend("default", "127.0.0.1", courier.imapPort(), TlsMode.NONE, courier.pop3Port(),
            TlsMode.NONE, true, null)
        .backend("starttls", "127.0.0.1", courier.imapPort(), TlsMode.STARTTLS,
            courier.pop3Port(), TlsMode.STARTTLS, true, courier.certificate())
        .user("alice", USERS.get("alice"))
        .passwdLine(PosternFixture.passwdLine("bob", USERS.get("bob"), "backend=starttls"))
        .backendTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10))
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (courier != null) {
      courier.close();
    }
    if (logs != null) {
      logs.stop();
    }
  }

  @Test
  void pop3ShouldGetATemporaryFailureAndALogLineNamingStarttls() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      c.expect("+OK");
      c.send("USER alice\r\nPASS " + USERS.get("alice") + "\r\n");
      c.expect("+OK");
      assertThat(c.readLine()).as("Courier's log:\n%s", courier.logText())
          .startsWith("-ERR [SYS/TEMP]");
    }
    assertThat(logs.lines()).anyMatch(l -> l.contains("user=alice") && l.contains("starttls"));
  }

  @Test
  void imapShouldGetATemporaryFailure() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice " + USERS.get("alice") + "\r\n");
      assertThat(c.readLine()).as("Courier's log:\n%s", courier.logText())
          .startsWith("a NO [UNAVAILABLE]");
    }
  }

  @Test
  void theSameCourierWithStarttlsShouldLogIn() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      c.expect("+OK");
      c.send("USER bob\r\nPASS " + USERS.get("bob") + "\r\n");
      c.expect("+OK");
      assertThat(c.readLine()).startsWith("+OK");
    }
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN bob " + USERS.get("bob") + "\r\n");
      assertThat(c.readLine()).startsWith("a OK");
    }
  }
}
