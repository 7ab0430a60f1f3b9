package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.CountingAuthenticator;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edges of a session before and at login: what arrives while a login is under way, clients
 * that stop sending, and clients that stop reading. Cleartext is allowed here so that a login can
 * be under way before STARTTLS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionEndingsTest {

  @TempDir
  static Path dir;

  private FakeBackend backend;
  private PosternFixture postern;
  private final CountingAuthenticator auth = new CountingAuthenticator();

  @BeforeAll
  void start() throws Exception {
    backend = FakeBackend.start(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      String login = c.readLine();
      c.send(login.split(" ")[0] + " OK [CAPABILITY IMAP4rev1] Logged in\r\n");
      if (login.contains("flood")) {
        // Floods the client, which never reads.
        OutputStream out = c.socket().getOutputStream();
        byte[] chunk = new byte[64 * 1024];
        while (true) {
          out.write(chunk);
        }
      }
      BackendScripts.imapCommands("alice").run(c);
    }, TestTls.shared("localhost"));
    postern = PosternFixture.builder(dir).user("alice", "pw").user("flood", "pw")
        .backend(backend.port(), 1).plaintextListeners().cleartext(AuthConfig.Cleartext.ALLOW)
        .failureDelay(Duration.ofMillis(800)).preauthTimeout(Duration.ofSeconds(2))
        .handshakeTimeout(Duration.ofSeconds(1)).idleTimeout(Duration.ofSeconds(1))
        .maxAttempts(10)
        .wrapAuthenticator(auth::around)
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
    backend.close();
  }

  @BeforeEach
  void reset() {
    auth.reset();
  }

  private int openConnections() {
    return postern.server().shared().limits().open();
  }

  @Test
  void plaintextThatArrivesDuringAFailedLoginShouldNotSurviveAStartTls() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("imap"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice wrong\r\nb STARTTLS\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> auth.calls() == 1);
      // Sent while the login waits out its failure delay: held back, then meant to be dropped.
      c.send("c LOGIN alice pw\r\n");
      assertThat(c.readLine()).startsWith("a NO [AUTHENTICATIONFAILED]");
      assertThat(c.readLine()).isEqualTo("b OK Begin TLS negotiation now.");
      c.startTls(true);
      assertThat(c.available(500)).as("a reply to the plaintext command").isEmpty();
      c.send("d NOOP\r\n");
      assertThat(c.readLine()).isEqualTo("d OK NOOP completed.");
    }
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void plaintextThatArrivesDuringAFailedPop3LoginShouldNotSurviveStls() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("pop3"), postern.tls())) {
      c.expect("+OK");
      c.send("USER alice\r\nPASS wrong\r\nSTLS\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> auth.calls() == 1);
      c.send("USER alice\r\nPASS pw\r\n");
      assertThat(c.readLine()).isEqualTo("+OK");
      assertThat(c.readLine()).startsWith("-ERR [AUTH]");
      assertThat(c.readLine()).isEqualTo("+OK Begin TLS negotiation now.");
      c.startTls(true);
      assertThat(c.available(500)).isEmpty();
      c.send("PASS pw\r\n");
      assertThat(c.readLine()).isEqualTo("-ERR No USER given.");
    }
    assertThat(auth.calls()).isEqualTo(1);
  }

  @Test
  void commandsPipelinedWithLoginAndThenAHalfCloseShouldAllBeAnswered() throws Exception {
    // Plain TCP: with the OpenSSL engine a TLS close_notify ends both directions (see README).
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice pw\r\nb WHOAMI\r\nc LOGOUT\r\n");
      c.shutdownOutput();
      assertThat(c.readUntil("c ")).containsExactly("a OK [CAPABILITY IMAP4rev1] Logged in",
          "* WHOAMI alice", "b OK done", "* BYE backend logging out", "c OK LOGOUT completed");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void aHalfCloseBeforeLoginShouldGetTheRepliesThenClose() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("pop3-plain"), postern.tls())) {
      c.expect("+OK");
      c.send("CAPA\r\n");
      c.shutdownOutput();
      assertThat(c.readUntil(".")).first().isEqualTo("+OK Capability list follows.");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> openConnections() == 0);
  }

  /**
   * Whatever ends a session, before or after login, it gets exactly one log line saying what
   * ended it, and gives back exactly one connection slot.
   */
  @Test
  void everyWayASessionEndsShouldWriteExactlyOneLineWithWhatEndedIt() throws Exception {
    await().atMost(Duration.ofSeconds(15)).until(() -> openConnections() == 0);
    LogCapture logs = LogCapture.start();
    try {
      try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
        c.expect("* OK");
        c.send("a LOGOUT\r\n");
        c.expect("* BYE");
      }
      try (Conversation c = MailClient.plain(postern.port("pop3-plain"), postern.tls())) {
        c.expect("+OK");
        c.send("QUIT\r\n");
        c.expect("+OK");
      }
      try (Conversation c = MailClient.plain(postern.port("pop3-plain"), postern.tls())) {
        c.expect("+OK");
      }
      try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
        c.expect("* OK");
        c.send("x FOO\r\n".repeat(5));
        assertThat(c.readUntil("* BYE")).hasSize(6);
        assertThat(c.closedByPeer(5000)).isTrue();
      }
      try (Conversation c = MailClient.plain(postern.port("pop3-plain"), postern.tls())) {
        c.expect("+OK");
        c.send("CAPA " + "x".repeat(9000) + "\r\n");
        c.expect("-ERR");
        assertThat(c.closedByPeer(5000)).isTrue();
      }
      try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
        c.expect("* OK");
        c.expect("* BYE");
        assertThat(c.closedByPeer(10_000)).as("the pre-auth deadline").isTrue();
      }
      // The client leaves after login: the backend is told (half-close) and ends the session.
      try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
        c.expect("* OK");
        c.send("a LOGIN alice pw\r\n");
        c.expect("a OK");
      }
      try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
        c.expect("* OK");
        c.send("a LOGIN alice pw\r\n");
        c.expect("a OK");
        assertThat(c.closedByPeer(10_000)).as("the idle timeout").isTrue();
      }
      await().atMost(Duration.ofSeconds(15)).until(() -> sessionLines(logs).size() == 8
          && openConnections() == 0);
      assertThat(sessionLines(logs)).extracting(l -> l.replaceAll(".* result=(\\S+) .*", "$1"))
          .containsExactlyInAnyOrder("logout", "quit", "closed", "too_many_errors", "too_big",
              "preauth_timeout", "ended_by_backend", "ended_by_idle");
      assertThat(sessionLines(logs)).extracting(l -> l.replaceAll("^session=(\\S+) .*", "$1"))
          .doesNotHaveDuplicates();
      assertThat(openConnections()).isZero();
    } finally {
      logs.stop();
    }
  }

  private static java.util.List<String> sessionLines(LogCapture logs) {
    return logs.lines().stream().filter(l -> l.startsWith("session=")).toList();
  }

  @Test
  void aClientThatNeverReadsItsRepliesShouldStillLoseItsConnectionAtTheDeadline()
      throws Exception {
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      OutputStream out = c.socket().getOutputStream();
      byte[] noops = "a NOOP\r\n".repeat(8192).getBytes(StandardCharsets.US_ASCII);
      try {
        for (int i = 0; i < 64; i++) {
          out.write(noops);
        }
      } catch (java.io.IOException closedMeanwhile) {
        // Postern may already have cut it off.
      }
      // Deadline (2 s) plus the close linger (1 s): the slot comes back although the client
      // is still connected and has read nothing.
      await().atMost(Duration.ofSeconds(10)).until(() -> openConnections() == 0);
    }
  }

  @Test
  void aClientThatNeverReadsARelayedFloodShouldLoseItsConnectionAtTheIdleTimeout()
      throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN flood pw\r\n");
      await().atMost(Duration.ofSeconds(15)).until(() -> openConnections() == 0);
    }
  }
}
