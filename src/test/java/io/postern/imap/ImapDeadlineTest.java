package io.postern.imap;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pre-auth deadline is a deadline: bytes trickling in do not push it back (DOS-06). */
class ImapDeadlineTest {

  @TempDir
  Path dir;

  @Test
  void aClientTricklingACommandShouldBeClosedAtTheDeadline() throws Exception {
    try (PosternFixture postern = PosternFixture.builder(dir).user("alice", "pw")
        .preauthTimeout(Duration.ofSeconds(1)).start();
        Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      long start = System.nanoTime();
      c.expect("* OK");
      String line = "a LOGIN alice pw";
      int sent = 0;
      byte[] answer = new byte[0];
      // One byte every 200 ms: an inactivity timer would never fire.
      while (sent < line.length()) {
        answer = c.available(200);
        if (answer.length > 0) {
          break;
        }
        c.sendRaw(new byte[] {(byte) line.charAt(sent++)});
      }
      assertThat(new String(answer, java.nio.charset.StandardCharsets.US_ASCII))
          .isEqualTo("* BYE Timed out waiting for login.\r\n");
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      assertThat(sent).isGreaterThanOrEqualTo(3);
      assertThat(elapsed).isBetween(900L, 2500L);
    }
  }
}
