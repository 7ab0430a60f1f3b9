package io.postern.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The post-login idle timeout, scaled down (the configuration file never allows under 30m). */
class RelayIdleTest {

  @TempDir
  Path dir;

  @Test
  void anIdleSessionShouldBeClosedOnBothSidesAndActivityShouldKeepItOpen() throws Exception {
    AtomicBoolean backendSawEof = new AtomicBoolean();
    try (FakeBackend backend = FakeBackend.start(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      String tag = c.readLine().split(" ")[0];
      c.send(tag + " OK [CAPABILITY IMAP4rev1] Logged in\r\n");
      while (true) {
        String line;
        try {
          line = c.readLine();
        } catch (Conversation.PeerGone e) {
          backendSawEof.set(true);
          return;
        }
        c.send(line.split(" ")[0] + " OK\r\n");
      }
    }, TestTls.shared("localhost"));
        PosternFixture postern = PosternFixture.builder(dir).user("idle", "pw")
            .backend(backend.port(), 1).idleTimeout(Duration.ofSeconds(1)).start();
        Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN idle pw\r\n");
      c.expect("a OK");
      long start = System.nanoTime();
      // Traffic every 400 ms for 2.5 s keeps the session alive past the 1 s limit.
      for (int i = 0; i < 6; i++) {
        assertThat(c.closedByPeer(400)).isFalse();
        c.send("n" + i + " NOOP\r\n");
        c.expect("n" + i + " OK");
      }
      assertThat(System.nanoTime() - start).isGreaterThan(2_000_000_000L);
      assertThat(c.closedByPeer(10_000)).isTrue();
      await().atMost(Duration.ofSeconds(5)).untilTrue(backendSawEof);
    }
  }
}
