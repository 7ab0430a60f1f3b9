package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.credentials.Secret;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LoginFlood;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestHashes;
import io.postern.testing.TestTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of wrong passwords for a user with an expensive hash (ARGON2ID as Dovecot makes it:
 * 64 MiB, 3 passes) from one address, with the throttle off (as for a botnet's many addresses
 * or a trusted network): another address's login still completes in its normal time, and the
 * flood's surplus gets the temporary failure. Shipped hashing limits (auth.hashing defaults).
 */
class HashFloodTest {

  private static final String CAPS = "IMAP4rev1 LITERAL+ ID";

  @TempDir
  Path dir;

  private final TestTls tls = TestTls.shared("localhost");

  /** One IMAPS login of bob from 127.0.0.2, in ms; fails unless it is accepted. */
  private long bobLogsIn(PosternFixture postern) throws Exception {
    try (Conversation c = MailClient.implicitTlsFrom("127.0.0.2", postern.port("imaps"), tls)) {
      c.expect("* OK");
      long sent = System.nanoTime();
      c.send("a LOGIN bob bob-pw\r\n");
      String reply = c.readLine();
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
      assertThat(reply).startsWith("a OK");
      c.send("z LOGOUT\r\n");
      c.readUntil("z ");
      return ms;
    }
  }

  @Test
  void anArgon2FloodFromOneAddressShouldNotHoldUpAnotherAddressesLogin() throws Exception {
    String argon = TestHashes.argon2id("the-right-one", 64 * 1024, 3);
    long check = Long.MAX_VALUE;
    for (int i = 0; i < 2; i++) {
      long start = System.nanoTime();
      PasswordSchemes.verify(argon, Secret.of("wrong"));
      check = Math.min(check, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }
    try (FakeBackend backend = FakeBackend.start(BackendScripts.imap(CAPS, "bob", "bob-pw",
            BackendScripts.imapCommands("bob")), tls);
        PosternFixture postern = PosternFixture.builder(dir)
            .user("bob", "bob-pw")
            .passwdLine(TestHashes.line("argon", argon))
            .backend(backend.port(), 1)
            .failureDelay(Duration.ofMillis(500))
            .maxAttempts(100)
            .hashing(AuthConfig.Hashing.DEFAULT)
            .start()) {
      List<Long> alone = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        alone.add(bobLogsIn(postern));
      }
      long normal = alone.stream().mapToLong(Long::longValue).max().orElseThrow();

      LoginFlood flood = LoginFlood.start(postern.port("imaps"), tls, List.of("127.0.0.1"), 50,
          n -> "argon");
      try {
        // Every guesser has a login out, and answers are coming back.
        await().atMost(Duration.ofSeconds(120))
            .until(() -> flood.sent() >= 50 && flood.answers().size() >= 10);
        // One check of the flood's may be running on the other thread: bob waits for no more.
        long bound = 2 * normal + check + 500;
        List<Long> flooded = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          flooded.add(CompletableFuture.supplyAsync(() -> {
            try {
              return bobLogsIn(postern);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }).get(bound, TimeUnit.MILLISECONDS));
        }
        List<LoginFlood.Answer> answers = flood.stop();
        long wrong = answers.stream().filter(a -> a.kind() == LoginFlood.Kind.WRONG).count();
        long temporary = answers.stream()
            .filter(a -> a.kind() == LoginFlood.Kind.TEMPORARY).count();
        System.out.println(String.format("ARGON2ID check %d ms; bob alone %s ms, during the"
                + " flood %s ms (bound %d ms); flood: %d wrong-password answers, %d temporary"
                + " failures", check, alone, flooded, bound, wrong, temporary));
        assertThat(flooded).allMatch(ms -> ms <= bound);
        assertThat(temporary).as("the flood's surplus: a temporary failure").isPositive();
        assertThat(answers).noneMatch(a -> a.kind() == LoginFlood.Kind.OTHER);
      } finally {
        flood.stop();
      }
    }
  }
}
