package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.config.Cidr;
import io.postern.config.LimitsConfig;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The penalty for guessing passwords, per client address (IPv6: per /64) and per user name, and
 * the connection limits per address: first {@link LoginThrottle} on its own, then as clients
 * connecting from different loopback addresses see it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoginThrottleTest {

  private static final String CAPS = "IMAP4rev1 LITERAL+ ID";
  private static final String AUTH_FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed.";
  private static final Duration PENALTY = Duration.ofMillis(1600);

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");

  // --- LoginThrottle on its own ------------------------------------------------------------

  private static LimitsConfig limits(String... trusted) {
    List<Cidr> nets = new ArrayList<>();
    for (String t : trusted) {
      nets.add(Cidr.parse(t));
    }
    return new LimitsConfig(Duration.ofSeconds(60), Duration.ofMinutes(30), Duration.ofSeconds(10),
        Duration.ofSeconds(5), Duration.ofSeconds(30), 8192, 8192, 5, 1000, 100, nets,
        Duration.ofSeconds(1), 0, 0, 256, Duration.ZERO);
  }

  private static LoginThrottle throttle(String... trusted) {
    return new LoginThrottle(new AuthConfig.Throttle(Duration.ofSeconds(2),
        Duration.ofSeconds(15), Duration.ofHours(1), 1000), limits(trusted));
  }

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @Test
  void theDelayShouldDoubleFromTheInitialDelayUpToTheMaximum() throws Exception {
    LoginThrottle t = throttle();
    InetAddress client = ip("198.51.100.7");
    assertThat(t.penalty(client, "amy")).isZero();
    List<Duration> seen = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      t.failed(client, "amy");
      seen.add(t.penalty(client, "amy"));
    }
    assertThat(seen).containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(4),
        Duration.ofSeconds(8), Duration.ofSeconds(15), Duration.ofSeconds(15),
        Duration.ofSeconds(15));
  }

  @Test
  void manyFailuresShouldStayAtTheMaximum() throws Exception {
    LoginThrottle t = throttle();
    InetAddress client = ip("198.51.100.8");
    for (int i = 0; i < 200; i++) {
      t.failed(client, "user" + i);
    }
    assertThat(t.penalty(client, "fresh")).isEqualTo(Duration.ofSeconds(15));
  }

  @Test
  void ipv6AddressesInOneSlash64ShouldShareACountAndAnotherSlash64ShouldNot() throws Exception {
    LoginThrottle t = throttle();
    t.failed(ip("2001:db8:1:2::1"), "u1");
    t.failed(ip("2001:db8:1:2:ffff:ffff:ffff:fffe"), "u2");
    t.failed(ip("2001:db8:1:2:abcd::9"), "u3");
    // Three failures in 2001:db8:1:2::/64, each for another user: the /64 is slowed.
    assertThat(t.penalty(ip("2001:db8:1:2::77"), "someone")).isEqualTo(Duration.ofSeconds(8));
    assertThat(t.penalty(ip("2001:db8:1:3::1"), "someone")).isZero();
    assertThat(t.penalty(ip("2001:db8:1:1:ffff:ffff:ffff:ffff"), "someone")).isZero();
  }

  @Test
  void ipv4AddressesShouldCountEachOnTheirOwn() throws Exception {
    LoginThrottle t = throttle();
    t.failed(ip("203.0.113.10"), "u1");
    t.failed(ip("203.0.113.10"), "u2");
    assertThat(t.penalty(ip("203.0.113.10"), "other")).isEqualTo(Duration.ofSeconds(4));
    assertThat(t.penalty(ip("203.0.113.11"), "other")).isZero();
  }

  @Test
  void aUsersFailuresShouldCountAcrossAddressesAndNameCase() throws Exception {
    LoginThrottle t = throttle();
    t.failed(ip("192.0.2.1"), "Victim");
    t.failed(ip("192.0.2.2"), "victim");
    t.failed(ip("2001:db8:9::1"), "VICTIM");
    assertThat(t.penalty(ip("192.0.2.99"), "victim")).isEqualTo(Duration.ofSeconds(8));
    assertThat(t.penalty(ip("192.0.2.99"), "bystander")).isZero();
  }

  @Test
  void trustedNetworksShouldNeverBeSlowedNorCount() throws Exception {
    LoginThrottle t = throttle("10.0.0.0/8", "2001:db8:aaaa::/48");
    for (int i = 0; i < 5; i++) {
      t.failed(ip("10.1.2.3"), "webmail-user");
      t.failed(ip("2001:db8:aaaa:1::5"), "webmail-user");
    }
    assertThat(t.penalty(ip("10.1.2.3"), "webmail-user")).isZero();
    assertThat(t.penalty(ip("2001:db8:aaaa:1::5"), "webmail-user")).isZero();
    // What a trusted webmail reports failing does not count against the user elsewhere.
    assertThat(t.penalty(ip("192.0.2.5"), "webmail-user")).isZero();
    // And a user slowed elsewhere is not slowed when coming through the trusted network.
    t.failed(ip("192.0.2.6"), "guessed");
    t.failed(ip("192.0.2.6"), "guessed");
    assertThat(t.penalty(ip("192.0.2.7"), "guessed")).isEqualTo(Duration.ofSeconds(4));
    assertThat(t.penalty(ip("10.9.9.9"), "guessed")).isZero();
  }

  @Test
  void aSuccessShouldClearTheAddressAndTheUser() throws Exception {
    LoginThrottle t = throttle();
    InetAddress client = ip("198.51.100.20");
    t.failed(client, "amy");
    t.failed(client, "amy");
    t.failed(ip("198.51.100.21"), "amy");
    assertThat(t.penalty(client, "amy")).isEqualTo(Duration.ofSeconds(8));
    t.succeeded(client, "amy");
    assertThat(t.penalty(client, "amy")).isZero();
    assertThat(t.penalty(client, "other")).isZero();
    assertThat(t.penalty(ip("198.51.100.22"), "amy")).isZero();
    // Another address's own failures are its own business.
    assertThat(t.penalty(ip("198.51.100.21"), "other")).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aZeroInitialDelayShouldTurnTheThrottleOff() throws Exception {
    LoginThrottle t = new LoginThrottle(new AuthConfig.Throttle(Duration.ZERO,
        Duration.ofSeconds(15), Duration.ofHours(1), 1000), limits());
    for (int i = 0; i < 5; i++) {
      t.failed(ip("198.51.100.30"), "amy");
    }
    assertThat(t.penalty(ip("198.51.100.30"), "amy")).isZero();
  }

  @Test
  void longUserNamesShouldBeTrackedByAShortKeyAndStillApart() throws Exception {
    // Names refused as implausible count too; an 8 KB name must not cost 8 KB per entry.
    String a = "x".repeat(8000) + "a";
    String b = "x".repeat(8000) + "b";
    assertThat(LoginThrottle.userKey(a)).hasSizeLessThanOrEqualTo(LoginThrottle.MAX_USER_KEY)
        .isNotEqualTo(LoginThrottle.userKey(b))
        .isEqualTo(LoginThrottle.userKey(a.toUpperCase(java.util.Locale.ROOT)));
    assertThat(LoginThrottle.userKey("Alice")).isEqualTo("alice");
    LoginThrottle t = throttle();
    t.failed(ip("198.51.100.40"), a);
    assertThat(t.penalty(ip("198.51.100.41"), a)).isEqualTo(Duration.ofSeconds(2));
    assertThat(t.penalty(ip("198.51.100.41"), b)).isZero();
  }

  // --- through Postern ---------------------------------------------------------------------

  private FakeBackend backend;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    backend = FakeBackend.start(BackendScripts.imap(CAPS, "bob", "bob-pw",
        BackendScripts.imapCommands("bob")), tls);
    postern = PosternFixture.builder(dir.resolve("throttled"))
        .user("alice", "alice-pw")
        .user("bob", "bob-pw")
        .user("tina", "tina-pw")
        .backend(backend.port(), 1)
        .throttle(Duration.ofMillis(400), PENALTY)
        .failureDelay(Duration.ZERO)
        .trustedNetwork("127.0.0.3/32")
        .maxAttempts(10)
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    backend.close();
  }

  /** One IMAPS login from {@code from}; the reply and how long it took in ms. */
  private record Timed(String reply, long millis) {}

  private Timed login(String from, String user, String password) throws Exception {
    try (Conversation c = MailClient.implicitTlsFrom(from, postern.port("imaps"), tls)) {
      c.expect("* OK");
      long sent = System.nanoTime();
      c.send("a LOGIN " + user + " " + password + "\r\n");
      String reply = c.readLine();
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
      if (reply.startsWith("a OK")) {
        c.send("z LOGOUT\r\n");
        c.readUntil("z ");
      }
      return new Timed(reply, ms);
    }
  }

  private double logins(String result) {
    return MetricsReader.value(postern, "postern_logins_total", "protocol", "imap",
        "mechanism", "login", "result", result);
  }

  @Test
  void repeatedFailuresShouldSlowThatAddressAndUserButNobodyElse() throws Exception {
    double throttled = logins("throttled");
    double failed = logins("failure");
    // Three wrong passwords for alice from 127.0.0.1: penalties 0, 400 and 800 ms.
    List<Long> first = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Timed t = login("127.0.0.1", "alice", "guess-" + i);
      assertThat(t.reply()).isEqualTo("a " + AUTH_FAILED);
      first.add(t.millis());
    }
    assertThat(first.get(1)).isGreaterThanOrEqualTo(380);
    assertThat(first.get(2)).isGreaterThanOrEqualTo(780);

    // The fourth answer from that address waits the full penalty.
    Timed fourth = login("127.0.0.1", "alice", "guess-3");
    assertThat(fourth.reply()).isEqualTo("a " + AUTH_FAILED);
    assertThat(fourth.millis()).isGreaterThanOrEqualTo(PENALTY.toMillis() - 20);

    // Another address and another user: answered at once, and logged in.
    Timed other = login("127.0.0.2", "bob", "bob-pw");
    assertThat(other.reply()).startsWith("a OK");
    assertThat(other.millis()).isLessThan(PENALTY.toMillis());

    // The same user from another address: slowed by the user's count.
    Timed sameUser = login("127.0.0.2", "alice", "guess-4");
    assertThat(sameUser.reply()).isEqualTo("a " + AUTH_FAILED);
    assertThat(sameUser.millis()).isGreaterThanOrEqualTo(PENALTY.toMillis() - 20);

    // Another user from the guessing address: slowed by the address's count, even when right.
    Timed sameAddress = login("127.0.0.1", "bob", "bob-pw");
    assertThat(sameAddress.reply()).startsWith("a OK");
    assertThat(sameAddress.millis()).isGreaterThanOrEqualTo(PENALTY.toMillis() - 20);

    // That success cleared 127.0.0.1; alice's own count still stands.
    Timed cleared = login("127.0.0.1", "tina", "tina-wrong");
    assertThat(cleared.reply()).isEqualTo("a " + AUTH_FAILED);
    assertThat(cleared.millis()).isLessThan(PENALTY.toMillis());

    // Operators see the slowed failures as throttled: guesses 2, 3 and 4, and alice from .2.
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(logins("throttled") - throttled).isEqualTo(4.0));
    assertThat(logins("failure") - failed).isEqualTo(2.0);
  }

  @Test
  void aTrustedNetworkShouldNeverBeSlowed() throws Exception {
    for (int i = 0; i < 4; i++) {
      Timed t = login("127.0.0.3", "tina", "wrong-" + i);
      assertThat(t.reply()).isEqualTo("a " + AUTH_FAILED);
      assertThat(t.millis()).as("attempt %d", i).isLessThan(400);
    }
  }

  // --- connection limits -------------------------------------------------------------------

  @Test
  void theThirdConnectionFromOneAddressShouldBeRefusedInTheProtocolsWords() throws Exception {
    try (PosternFixture limited = PosternFixture.builder(dir.resolve("limited"))
        .user("alice", "alice-pw").backend(backend.port(), 1)
        .connectionLimits(1000, 2).start()) {
      List<Conversation> open = new ArrayList<>();
      try {
        Conversation first = MailClient.plainFrom("127.0.0.1", limited.port("imap"), tls);
        open.add(first);
        first.expect("* OK");
        Conversation second = MailClient.plainFrom("127.0.0.1", limited.port("pop3"), tls);
        open.add(second);
        second.expect("+OK");

        Conversation thirdImap = MailClient.plainFrom("127.0.0.1", limited.port("imap"), tls);
        open.add(thirdImap);
        assertThat(thirdImap.readLine())
            .isEqualTo("* BYE [UNAVAILABLE] Too many connections from your address.");
        assertThat(thirdImap.closedByPeer(5000)).isTrue();

        Conversation thirdPop = MailClient.plainFrom("127.0.0.1", limited.port("pop3"), tls);
        open.add(thirdPop);
        assertThat(thirdPop.readLine())
            .isEqualTo("-ERR [SYS/TEMP] Too many connections from your address.");
        assertThat(thirdPop.closedByPeer(5000)).isTrue();

        // Another address is not affected.
        Conversation elsewhere = MailClient.plainFrom("127.0.0.2", limited.port("imap"), tls);
        open.add(elsewhere);
        elsewhere.expect("* OK");
        elsewhere.send("a NOOP\r\n");
        assertThat(elsewhere.readLine()).isEqualTo("a OK NOOP completed.");

        // The first two still work; when one leaves, its place is free again.
        first.send("a NOOP\r\n");
        assertThat(first.readLine()).isEqualTo("a OK NOOP completed.");
        second.send("QUIT\r\n");
        second.expect("+OK");
        assertThat(second.closedByPeer(5000)).isTrue();
        // Leaving is closing: Postern holds a connection until the client closes its side too
        // (or handshake-timeout passes), so what it queued last is never left to the kernel.
        second.close();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
          try (Conversation again = MailClient.plainFrom("127.0.0.1", limited.port("imap"),
              tls)) {
            assertThat(again.readLine()).startsWith("* OK");
          }
        });
      } finally {
        for (Conversation c : open) {
          c.close();
        }
      }
    }
  }
}
