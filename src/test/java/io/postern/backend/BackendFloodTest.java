package io.postern.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A backend that buries the login in untagged lines fails it, cheaply and cleanly. */
class BackendFloodTest {

  @TempDir
  Path dir;

  private static String flood() {
    return "* a\r\n".repeat(60_000);
  }

  @Test
  void tensOfThousandsOfLinesBeforeAContinuationOrAReplyShouldFailTheLogin() throws Exception {
    LogCapture logs = LogCapture.start();
    try (FakeBackend beforePlus = FakeBackend.start(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      c.expect("L1 LOGIN \"alice\" {");
      c.send(flood());
      c.readLine();
    }, TestTls.shared("localhost"));
        FakeBackend beforeTagged = FakeBackend.start(c -> {
          c.send("* OK ready\r\n");
          c.expect("C1 CAPABILITY");
          c.send(flood() + "C1 OK done\r\n");
          c.readLine();
        }, TestTls.shared("localhost"));
        PosternFixture postern = PosternFixture.builder(dir)
            .passwdLine(PosternFixture.passwdLine("alice", "pässword", "backend=plus"))
            .passwdLine(PosternFixture.passwdLine("bob", "pw", "backend=tagged"))
            .backend("plus", "127.0.0.1", beforePlus.port(), io.postern.config.TlsMode.NONE, 1,
                io.postern.config.TlsMode.NONE, true, null)
            .backend("tagged", "127.0.0.1", beforeTagged.port(),
                io.postern.config.TlsMode.NONE, 1, io.postern.config.TlsMode.NONE, true, null)
            .start();
        Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice {9+}\r\npässword\r\n");
      assertThat(c.readLine()).startsWith("a NO [UNAVAILABLE]");
      c.send("b LOGIN bob pw\r\n");
      assertThat(c.readLine()).startsWith("b NO [UNAVAILABLE]");
      assertThat(logs.lines()).noneMatch(l -> l.contains("StackOverflowError"))
          .anyMatch(l -> l.contains("sent more than 200 lines for one reply"));
    } finally {
      logs.stop();
    }
  }
}
