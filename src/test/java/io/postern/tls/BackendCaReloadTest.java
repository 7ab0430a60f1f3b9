package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.TlsMode;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend's certificate is re-issued by a new CA, and the CA file Postern verifies it with
 * ({@code backends.<name>.ca}) is replaced: logins reach the backend again without a restart.
 */
class BackendCaReloadTest {

  private static final Duration DEADLINE = Duration.ofSeconds(15);

  @TempDir
  Path dir;

  @Test
  void aReplacedCaFileShouldBeTrustedByNewBackendConnectionsAndABrokenOneRefused()
      throws Exception {
    LogCapture logs = LogCapture.start();
    Path ca = dir.resolve("backend-ca.pem");
    // The file names the old CA; the backend already presents a certificate from the new one.
    Files.copy(TestTls.shared("localhost").certPath(), ca);
    try (TestTls reissued = TestTls.forHost("localhost");
        FakeBackend backend = FakeBackend.startImplicitTls(BackendScripts.imap("IMAP4rev1",
            "carol", "secret", BackendScripts.imapCommands("carol")), reissued);
        PosternFixture postern = PosternFixture.builder(dir.resolve("postern"))
            .backend("default", "localhost", backend.port(), TlsMode.IMPLICIT, 1, TlsMode.NONE,
                true, ca)
            .user("carol", "secret")
            .watchInterval(Duration.ofMillis(100))
            .start()) {
      assertThat(login(postern)).startsWith("t1 NO [UNAVAILABLE]");

      Path next = dir.resolve("backend-ca.pem.new");
      Files.copy(reissued.certPath(), next);
      Files.move(next, ca, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      await().atMost(DEADLINE).until(() -> login(postern).startsWith("t1 OK"));
      assertThat(MetricsReader.value(postern, "postern_tls_reloads_total", "result", "applied"))
          .isEqualTo(1.0);
      assertThat(logs.lines()).filteredOn(l -> l.contains("CA file")).singleElement().asString()
          .contains(ca.toString(), "'default'", "reloaded");

      Files.writeString(ca, "not a certificate\n");
      await().atMost(DEADLINE).until(() -> MetricsReader.value(postern,
          "postern_tls_reloads_total", "result", "refused") == 1.0);
      assertThat(login(postern)).startsWith("t1 OK");
      assertThat(logs.lines()).filteredOn(l -> l.contains("changed CA file")).singleElement()
          .asString().contains("'default'", ca.toString());
    } finally {
      logs.stop();
    }
  }

  private static String login(PosternFixture postern) throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      c.expect("* OK");
      c.send("t1 LOGIN carol secret\r\n");
      return c.readLine();
    }
  }
}
