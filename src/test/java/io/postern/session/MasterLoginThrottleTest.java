package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.MasterConfig;
import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A master's password guessed through many customers, from many addresses: every guess is a
 * failure of the one master, so the throttle slows the next guess at that master whatever
 * customer and address it comes with, while a user who happens to share the master's name is
 * counted apart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MasterLoginThrottleTest {

  @TempDir
  static Path dir;

  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    Path masters = Files.createDirectories(dir).resolve("masters.passwd");
    Files.writeString(masters, PosternFixture.passwdLine("support", "support-pw", "") + "\n");
    postern = PosternFixture.builder(dir)
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("support", "own-pw")
        .masterUsers(new MasterConfig("*", masters))
        .throttle(Duration.ofMillis(100), Duration.ofSeconds(1))
        .maxAttempts(10)
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
  }

  @Test
  void guessesAtAMastersPasswordThroughOtherCustomersShouldBeSlowedAsOneName()
      throws Exception {
    double throttled = throttled();
    assertThat(login("127.0.0.2", "alice*support", "guess-1"))
        .startsWith("a NO [AUTHENTICATIONFAILED]");
    assertThat(throttled()).isEqualTo(throttled);
    // Another customer, another address: still the same master's password being guessed.
    assertThat(login("127.0.0.3", "bob*support", "guess-2"))
        .startsWith("a NO [AUTHENTICATIONFAILED]");
    assertThat(throttled()).isEqualTo(throttled + 1);
    // The user "support" is not the master "support": no penalty of the master's.
    assertThat(login("127.0.0.4", "support", "wrong")).startsWith("a NO [AUTHENTICATIONFAILED]");
    assertThat(throttled()).isEqualTo(throttled + 1);
  }

  private String login(String from, String user, String password) throws Exception {
    try (Conversation c = MailClient.implicitTlsFrom(from, postern.port("imaps"),
        postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN \"" + user + "\" " + password + "\r\n");
      return c.expect("a ");
    }
  }

  private double throttled() {
    return MetricsReader.value(postern, "postern_logins_total", "protocol", "imap",
        "mechanism", "login", "result", "throttled");
  }
}
