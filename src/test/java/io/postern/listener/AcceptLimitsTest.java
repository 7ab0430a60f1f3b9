package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The connection limits as an attacker meets them: a connection counts from the moment it is
 * accepted (a silent one holds a descriptor as much as a logged-in one), and one address cannot
 * open connections or start TLS handshakes faster than its rate, while other addresses are
 * served.
 */
class AcceptLimitsTest {

  /** Far longer than any wait below: a refusal that waits for it is not "at once". */
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(20);
  /** How long "at once" may take on a busy test machine. */
  private static final int AT_ONCE_MILLIS = 5000;
  private static final TestTls TLS = TestTls.shared("localhost");

  @TempDir
  static Path dir;

  private final List<Socket> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    for (Socket s : open) {
      s.close();
    }
    open.clear();
  }

  /** A TCP connection from {@code from} that sends nothing. */
  private Socket silent(String from, int port) throws IOException {
    Socket s = new Socket();
    open.add(s);
    s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
    return s;
  }

  /** A connection through the balancer (127.0.0.1) that sends a PROXY header, then nothing. */
  private Socket proxied(String client, int port) throws IOException {
    Socket s = silent("127.0.0.1", port);
    s.getOutputStream().write(("PROXY TCP4 " + client + " 127.0.0.1 5555 993\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    return s;
  }

  /** True if Postern closes (or resets) {@code s} within {@link #AT_ONCE_MILLIS}, unread. */
  private static boolean refusedAtOnce(Socket s) throws IOException {
    s.setSoTimeout(AT_ONCE_MILLIS);
    return ListenerTest.closedWithoutAByte(s);
  }

  /**
   * True if a connection from {@code from} is refused at once: reset before the connect call
   * even returned (loopback is that fast), or closed unread right after.
   */
  private boolean refusedAtOnce(String from, int port) throws IOException {
    Socket s;
    try {
      s = silent(from, port);
    } catch (java.net.SocketException reset) {
      return true;
    }
    return refusedAtOnce(s);
  }

  private static double rejected(PosternFixture postern, String listener, String reason) {
    return MetricsReader.value(postern, "postern_connections_rejected_total", "listener",
        listener, "reason", reason);
  }

  private static void awaitNoSlotsHeld(PosternFixture postern, String... sources) {
    ConnectionLimits limits = postern.server().shared().limits();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(limits.open()).as("connections holding a slot").isZero();
      for (String source : sources) {
        assertThat(limits.open(InetAddress.getByName(source))).as(source).isZero();
      }
    });
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class OnAnImplicitTlsListener {

    private PosternFixture postern;

    @BeforeAll
    void start() throws Exception {
      postern = PosternFixture.builder(dir.resolve("implicit")).user("alice", "pw")
          .connectionLimits(1000, 3).handshakeTimeout(HANDSHAKE_TIMEOUT).start();
    }

    @AfterAll
    void stop() throws Exception {
      postern.close();
    }

    @Test
    void silentConnectionsShouldCountFromAcceptSoTheNextOneIsClosedAtOnce() throws Exception {
      double before = rejected(postern, "imaps", "per_ip");
      for (int i = 0; i < 3; i++) {
        silent("127.0.0.1", postern.port("imaps"));
      }
      assertThat(refusedAtOnce("127.0.0.1", postern.port("imaps")))
          .as("over max-connections-per-ip before any TLS handshake").isTrue();
      try (Conversation other = MailClient.implicitTlsFrom("127.0.0.2", postern.port("imaps"),
          TLS)) {
        other.expect("* OK");
      }
      assertThat(rejected(postern, "imaps", "per_ip")).isEqualTo(before + 1);

      // The silent ones never handshook; closing them gives their slots back all the same.
      closeAll();
      awaitNoSlotsHeld(postern, "127.0.0.1", "127.0.0.2");
      try (Conversation again = MailClient.implicitTlsFrom("127.0.0.1", postern.port("imaps"),
          TLS)) {
        again.expect("* OK");
      }
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class OnAProxyListener {

    private PosternFixture postern;

    @BeforeAll
    void start() throws Exception {
      postern = PosternFixture.builder(dir.resolve("proxy")).user("alice", "pw")
          .connectionLimits(6, 2).proxyProtocolListeners().trustedNetwork("127.0.0.1/32")
          .handshakeTimeout(HANDSHAKE_TIMEOUT).start();
    }

    @AfterAll
    void stop() throws Exception {
      postern.close();
    }

    @Test
    void theClientAHeaderNamesShouldCountBeforeItsHandshakeAndSilentPeersBeforeTheirHeader()
        throws Exception {
      String[] reasons = {"per_ip", "max_connections", "proxy_header"};
      double[] before = new double[reasons.length];
      for (int i = 0; i < reasons.length; i++) {
        before[i] = rejected(postern, "imap-proxied", reasons[i]);
      }
      double acceptedBefore = MetricsReader.value(postern, "postern_connections_total",
          "listener", "imap-proxied", "protocol", "imap");
      double handshakesBefore = handshakesEnded();
      int port = postern.port("imap-proxied");

      proxied("192.0.2.9", port);
      proxied("192.0.2.9", port);
      assertThat(refusedAtOnce(proxied("192.0.2.9", port)))
          .as("the client's third connection, before any TLS handshake").isTrue();
      // The balancer speaks for many clients: its own address is not limited per address.
      Socket b = proxied("192.0.2.10", port);
      SSLSocket tls = (SSLSocket) TLS.clientContext().getSocketFactory()
          .createSocket(b, "localhost", port, true);
      tls.startHandshake();
      Conversation other = MailClient.wrap(tls, TLS);
      other.expect("* OK");

      // Three connections that never send a header fill max-connections (6): each counts.
      for (int i = 0; i < 3; i++) {
        silent("127.0.0.1", port);
      }
      assertThat(refusedAtOnce("127.0.0.1", port))
          .as("over max-connections while the others have not sent a header").isTrue();

      closeAll();
      awaitNoSlotsHeld(postern, "127.0.0.1", "192.0.2.9", "192.0.2.10");
      // Every accepted connection ended up in exactly one place: refused (by reason), a TLS
      // handshake that never finished, or a session (the one greeted).
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        double[] delta = new double[reasons.length];
        for (int i = 0; i < reasons.length; i++) {
          delta[i] = rejected(postern, "imap-proxied", reasons[i]) - before[i];
        }
        assertThat(delta).containsExactly(1, 1, 3);
        assertThat(handshakesEnded() - handshakesBefore).isEqualTo(2);
        assertThat(MetricsReader.value(postern, "postern_connections_total", "listener",
            "imap-proxied", "protocol", "imap") - acceptedBefore).isEqualTo(8);
      });
    }

    private double handshakesEnded() {
      return MetricsReader.value(postern, "postern_tls_handshakes_total", "listener",
          "imap-proxied", "result", "failure", "version", "none")
          + MetricsReader.value(postern, "postern_tls_handshakes_total", "listener",
          "imap-proxied", "result", "closed", "version", "none");
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithATrustedNetwork {

    private PosternFixture postern;

    /** Eight connections in all, two per address, 127.0.0.1 trusted (a webmail). */
    @BeforeAll
    void start() throws Exception {
      postern = PosternFixture.builder(dir.resolve("trusted")).user("alice", "pw")
          .connectionLimits(8, 2).trustedNetwork("127.0.0.1/32")
          .handshakeTimeout(HANDSHAKE_TIMEOUT).start();
    }

    @AfterAll
    void stop() throws Exception {
      postern.close();
    }

    @Test
    void aTrustedAddressShouldBeExemptFromMaxConnectionsPerIpButCountTowardTheTotal()
        throws Exception {
      List<Conversation> held = new ArrayList<>();
      try {
        // A webmail server keeps a connection per logged-in user: all five are served.
        for (int i = 0; i < 5; i++) {
          Conversation c = MailClient.plainFrom("127.0.0.1", postern.port("imap"), TLS);
          held.add(c);
          c.expect("* OK");
        }
        // Any other address is held to two, as before.
        for (int i = 0; i < 2; i++) {
          Conversation c = MailClient.plainFrom("127.0.0.2", postern.port("imap"), TLS);
          held.add(c);
          c.expect("* OK");
        }
        try (Conversation c = MailClient.plainFrom("127.0.0.2", postern.port("imap"), TLS)) {
          assertThat(c.readLine())
              .isEqualTo("* BYE [UNAVAILABLE] Too many connections from your address.");
        }
        // The trusted five count toward max-connections (8): one more fills it, and the
        // trusted address then meets the total like everybody.
        Conversation eighth = MailClient.plainFrom("127.0.0.3", postern.port("imap"), TLS);
        held.add(eighth);
        eighth.expect("* OK");
        try (Conversation c = MailClient.plainFrom("127.0.0.1", postern.port("imap"), TLS)) {
          assertThat(c.readLine()).isEqualTo("* BYE [UNAVAILABLE] Too many connections.");
        }
        assertThat(rejected(postern, "imap", "per_ip")).isEqualTo(1);
        assertThat(rejected(postern, "imap", "max_connections")).isEqualTo(1);
      } finally {
        for (Conversation c : held) {
          c.close();
        }
      }
      awaitNoSlotsHeld(postern, "127.0.0.1", "127.0.0.2", "127.0.0.3");
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithRates {

    private PosternFixture postern;

    /** Three new connections and two TLS handshakes per minute and address. */
    @BeforeAll
    void start() throws Exception {
      postern = PosternFixture.builder(dir.resolve("rates")).user("alice", "pw")
          .rates(3, 2).trustedNetwork("127.0.0.3/32").handshakeTimeout(HANDSHAKE_TIMEOUT)
          .start();
    }

    @AfterAll
    void stop() throws Exception {
      postern.close();
    }

    @Test
    void newConnectionsOverTheRateShouldBeRefusedInTheProtocolsWords() throws Exception {
      for (int i = 0; i < 3; i++) {
        try (Conversation c = MailClient.plainFrom("127.0.0.1", postern.port("imap"), TLS)) {
          c.expect("* OK");
        }
      }
      try (Conversation c = MailClient.plainFrom("127.0.0.1", postern.port("pop3"), TLS)) {
        assertThat(c.readLine())
            .isEqualTo("-ERR [SYS/TEMP] Too many new connections from your address.");
        assertThat(c.closedByPeer(AT_ONCE_MILLIS)).isTrue();
      }
      try (Conversation c = MailClient.plainFrom("127.0.0.1", postern.port("imap"), TLS)) {
        assertThat(c.readLine())
            .isEqualTo("* BYE [UNAVAILABLE] Too many new connections from your address.");
      }
      try (Conversation c = MailClient.plainFrom("127.0.0.2", postern.port("imap"), TLS)) {
        c.expect("* OK");
      }
      // A trusted network (a webmail, a balancer) is not held to a rate.
      for (int i = 0; i < 5; i++) {
        try (Conversation c = MailClient.implicitTlsFrom("127.0.0.3", postern.port("imaps"),
            TLS)) {
          c.expect("* OK");
        }
      }
      assertThat(rejected(postern, "imap", "connection_rate")).isEqualTo(1);
      assertThat(rejected(postern, "pop3", "connection_rate")).isEqualTo(1);
    }

    @Test
    void implicitTlsHandshakesOverTheRateShouldBeRefusedBeforeTheyCostAnything()
        throws Exception {
      for (int i = 0; i < 2; i++) {
        try (Conversation c = MailClient.implicitTlsFrom("127.0.0.4", postern.port("imaps"),
            TLS)) {
          c.expect("* OK");
        }
      }
      assertThat(refusedAtOnce("127.0.0.4", postern.port("pop3s")))
          .as("a third handshake from the address, never started").isTrue();
      try (Conversation c = MailClient.implicitTlsFrom("127.0.0.6", postern.port("pop3s"),
          TLS)) {
        c.expect("+OK");
      }
      assertThat(rejected(postern, "pop3s", "handshake_rate")).isEqualTo(1);
    }

    @Test
    void startTlsOverTheHandshakeRateShouldEndTheSessionWithTheProtocolsGoodbye()
        throws Exception {
      for (int i = 0; i < 2; i++) {
        try (Conversation c = MailClient.plainFrom("127.0.0.5", postern.port("imap"), TLS)) {
          c.expect("* OK");
          c.send("a STARTTLS\r\n");
          c.expect("a OK");
          c.startTls(true);
          c.send("b NOOP\r\n");
          c.expect("b OK");
        }
      }
      try (Conversation c = MailClient.plainFrom("127.0.0.5", postern.port("imap"), TLS)) {
        c.expect("* OK");
        c.send("a STARTTLS\r\n");
        assertThat(c.readLine())
            .isEqualTo("* BYE [UNAVAILABLE] Too many TLS handshakes from your address.");
        assertThat(c.closedByPeer(AT_ONCE_MILLIS)).isTrue();
      }
      try (Conversation c = MailClient.plainFrom("127.0.0.7", postern.port("pop3"), TLS)) {
        c.expect("+OK");
        c.send("STLS\r\n");
        c.expect("+OK");
        c.startTls(true);
      }
      assertThat(MetricsReader.value(postern, "postern_tls_handshakes_total", "listener", "imap",
          "result", "refused", "version", "none")).isEqualTo(1);
    }
  }
}
