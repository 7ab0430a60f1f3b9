package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.net.ConnectException;
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
  void stoppingShouldSayGoodbyeBeforeLoginAndLetRelaysRunOutTheGrace() throws Exception {
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
        // Logged in: still relayed during the grace period (1 s in the fixture), then closed.
        relayed.send("b NOOP\r\n");
        relayed.expect("b OK");
        assertThat(relayed.closedByPeer(10_000)).isTrue();
        stopped.get(30, TimeUnit.SECONDS);
      }
      assertThatThrownBy(() -> MailClient.plain(imaps, postern.tls()))
          .isInstanceOf(ConnectException.class);
    }
  }
}
