package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.postern.testing.LogCapture;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stopping Postern: goodbyes before login, a grace period after, no new connections. */
class ShutdownTest {

  @TempDir
  Path dir;

  @Test
  void stoppingShouldSayGoodbyeBeforeLoginAndEndRelaysBetweenResponses() throws Exception {
    try (FakeBackend backend = FakeBackend.start(BackendScripts.imap("IMAP4rev1", "alice", "pw",
        BackendScripts.imapCommands("alice")), TestTls.shared("localhost"))) {
      PosternFixture postern = PosternFixture.builder(dir).user("alice", "pw")
          .backend(backend.port(), 1).start();
      int imaps = postern.port("imaps");
      try (Conversation imap = MailClient.implicitTls(imaps, postern.tls());
          Conversation pop3 = MailClient.implicitTls(postern.port("pop3s"), postern.tls());
          Conversation relayed = MailClient.implicitTls(imaps, postern.tls())) {
        imap.expect("* OK");
        pop3.expect("+OK");
        relayed.expect("* OK");
        relayed.send("a LOGIN alice pw\r\n");
        relayed.expect("a OK");

        CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
          try {
            postern.close();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        assertThat(imap.readLine()).isEqualTo("* BYE [UNAVAILABLE] Server shutting down.");
        assertThat(pop3.readLine()).isEqualTo("-ERR [SYS/TEMP] Server shutting down.");
        assertThat(imap.closedByPeer(5000)).isTrue();
        // Logged in, drain window 0: the BYE at once, as the backend is between responses.
        assertThat(relayed.readLine()).isEqualTo("* BYE [UNAVAILABLE] Server shutting down.");
        assertThat(relayed.closedByPeer(10_000)).isTrue();
        stopped.get(30, TimeUnit.SECONDS);
      }
      assertThatThrownBy(() -> MailClient.plain(imaps, postern.tls()))
          .isInstanceOf(ConnectException.class);
    }
  }

  @Test
  void stoppingShouldEndLoggedInSessionsSpreadOverTheDrainWindowWithinTheGrace() throws Exception {
    LogCapture logs = LogCapture.start();
    try (FakeBackend backend = FakeBackend.start(BackendScripts.imap("IMAP4rev1", "alice", "pw",
        BackendScripts.imapCommands("alice")), TestTls.shared("localhost"))) {
      PosternFixture postern = PosternFixture.builder(dir).user("alice", "pw")
          .backend(backend.port(), 1).shutdown(Duration.ofSeconds(6), Duration.ofSeconds(3))
          .start();
      List<Conversation> relayed = new ArrayList<>();
      try (Conversation waiting = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
        waiting.expect("* OK");
        for (int i = 0; i < 10; i++) {
          Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls());
          relayed.add(c);
          c.expect("* OK");
          c.send("a LOGIN alice pw\r\n");
          c.expect("a OK");
        }
        long begun = System.nanoTime();
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(() -> {
          try {
            postern.close();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        assertThat(waiting.readLine()).isEqualTo("* BYE [UNAVAILABLE] Server shutting down.");
        List<Long> byes = new ArrayList<>();
        for (Conversation c : relayed) {
          // Until its slot, a session is relayed as ever.
          c.send("b NOOP\r\n");
          String line = c.readLine();
          if (line.startsWith("b OK")) {
            line = c.readLine();
          }
          assertThat(line).isEqualTo("* BYE [UNAVAILABLE] Server shutting down.");
          byes.add((System.nanoTime() - begun) / 1_000_000);
          assertThat(c.closedByPeer(5000)).isTrue();
        }
        byes.sort(null);
        assertThat(byes.get(byes.size() - 1)).as("last BYE, ms").isBetween(2200L, 5500L);
        stopped.get(30, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - begun)).isLessThan(
            Duration.ofSeconds(8));
      } finally {
        for (Conversation c : relayed) {
          c.close();
        }
      }
      assertThat(logs.lines().stream().filter(l -> l.startsWith("session=")
          && l.contains("user=alice"))).hasSize(10)
          .allSatisfy(l -> assertThat(l).contains(" result=shutdown "));
    } finally {
      logs.stop();
    }
  }
}
