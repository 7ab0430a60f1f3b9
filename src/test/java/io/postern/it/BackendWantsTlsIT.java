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
 * A real Dovecot that refuses passwords without TLS ({@code disable_plaintext_auth = yes}),
 * reached by Postern with {@code tls: none}: a configuration error, answered as a temporary
 * failure and logged with the setting to change, never as a wrong password. Dovecot counts a
 * connection whose two ends have the same address as secure, so it also listens on 127.0.0.2,
 * where Postern's connections come from 127.0.0.1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BackendWantsTlsIT {

  private static final Map<String, String> USERS = Map.of("alice", "alice-pw", "bob", "bob-pw");

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private PosternFixture postern;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    logs = LogCapture.start();
    dovecot = DovecotServer.start(dir.resolve("dovecot"), USERS,
        "disable_plaintext_auth = yes\nlisten = 127.0.0.1, 127.0.0.2\n");
    postern = PosternFixture.builder(dir.resolve("postern"))
        .backend("default", "127.0.0.2", dovecot.imapPort(), TlsMode.NONE, dovecot.pop3Port(),
            TlsMode.NONE, true, null)
        // Dovecot's certificate names localhost, not 127.0.0.2: this one only shows the fix.
        .backend("starttls", "127.0.0.2", dovecot.imapPort(), TlsMode.STARTTLS,
            dovecot.pop3Port(), TlsMode.STARTTLS, false, null)
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
    if (dovecot != null) {
      dovecot.close();
    }
    if (logs != null) {
      logs.stop();
    }
  }

  @Test
  void pop3ShouldBeATemporaryFailureThatNamesStarttls() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      c.expect("+OK");
      c.send("USER alice\r\nPASS " + USERS.get("alice") + "\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      assertThat(c.readLine())
          .isEqualTo("-ERR [SYS/TEMP] Service temporarily unavailable, try again later.");
    }
    assertThat(logs.lines()).anyMatch(l -> l.contains("user=alice")
        && l.contains("offers neither USER nor SASL PLAIN before STLS; it requires TLS:"
        + " configure pop3: { tls: starttls } (or implicit) for backend 'default'"));
    assertThat(postern.meters().registry().find("postern.logins")
        .tags("protocol", "pop3", "result", "unavailable").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count).sum()).isEqualTo(1.0);
  }

  @Test
  void imapShouldBeATemporaryFailureToo() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice " + USERS.get("alice") + "\r\n");
      assertThat(c.readLine()).startsWith("a NO [UNAVAILABLE] ");
    }
  }

  @Test
  void theSameServerWithStarttlsShouldLogIn() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      c.expect("+OK");
      c.send("USER bob\r\nPASS " + USERS.get("bob") + "\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      assertThat(c.readLine()).startsWith("+OK");
    }
  }
}
