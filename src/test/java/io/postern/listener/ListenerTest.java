package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.Conversation;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** What a listener does before any session: connection limits and the PROXY header policy. */
class ListenerTest {

  @TempDir
  static Path dir;

  /** A plaintext connection from a chosen loopback address (127.0.0.0/8 is all local). */
  private static Conversation from(String source, int port) throws IOException {
    return MailClient.plainFrom(source, port, TestTls.shared("localhost"));
  }

  /** True once the peer closed or reset {@code socket} without sending a byte. */
  static boolean closedWithoutAByte(Socket socket) throws IOException {
    try {
      return socket.getInputStream().read() == -1;
    } catch (java.net.SocketException reset) {
      // Refusals reset the connection: nothing is left behind in TIME_WAIT.
      return true;
    }
  }

  /** An implicit-TLS connection that first sends {@code header} in the clear. */
  private static Conversation proxied(int port, String header) throws IOException {
    return proxied(port, header.getBytes(StandardCharsets.US_ASCII));
  }

  /** The same with a binary (version 2) header. */
  private static Conversation proxied(int port, byte[] header) throws IOException {
    Socket raw = new Socket(InetAddress.getLoopbackAddress(), port);
    raw.setSoTimeout(10_000);
    raw.getOutputStream().write(header);
    SSLSocket tls = (SSLSocket) TestTls.shared("localhost").clientContext().getSocketFactory()
        .createSocket(raw, "localhost", port, true);
    tls.startHandshake();
    return MailClient.wrap(tls, TestTls.shared("localhost"));
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithLimitsAndATrustedBalancer {

    private PosternFixture postern;
    private LogCapture logs;

    @BeforeAll
    void start() throws Exception {
      logs = LogCapture.start();
      postern = PosternFixture.builder(dir.resolve("limits")).user("alice", "pw")
          .connectionLimits(3, 2).proxyProtocolListeners().trustedNetwork("127.0.0.1/32")
          .start();
    }

    @AfterAll
    void stop() throws Exception {
      postern.close();
      logs.stop();
    }

    @Test
    void connectionsOverTheLimitsShouldBeRefusedWithTheProtocolsReplyUntilOthersClose()
        throws Exception {
      List<Conversation> open = new ArrayList<>();
      // From an address outside trusted-networks (127.0.0.1 is, and is not held per address).
      try {
        for (int i = 0; i < 2; i++) {
          Conversation c = from("127.0.0.4", postern.port("imap"));
          c.expect("* OK");
          open.add(c);
        }
        try (Conversation c = from("127.0.0.4", postern.port("imap"))) {
          assertThat(c.readLine())
              .isEqualTo("* BYE [UNAVAILABLE] Too many connections from your address.");
          assertThat(c.closedByPeer(5000)).isTrue();
        }
        try (Conversation c = from("127.0.0.4", postern.port("pop3"))) {
          assertThat(c.readLine())
              .isEqualTo("-ERR [SYS/TEMP] Too many connections from your address.");
        }
        Conversation other = from("127.0.0.2", postern.port("pop3"));
        other.expect("+OK");
        open.add(other);
        try (Conversation c = from("127.0.0.3", postern.port("imap"))) {
          assertThat(c.readLine()).isEqualTo("* BYE [UNAVAILABLE] Too many connections.");
        }
        open.remove(0).close();
        // The closed connection's slot comes back.
        await().atMost(Duration.ofSeconds(5)).until(() -> {
          try (Conversation c = from("127.0.0.4", postern.port("imap"))) {
            return c.readLine().startsWith("* OK");
          }
        });
      } finally {
        for (Conversation c : open) {
          c.close();
        }
      }
    }

    @Test
    void aProxyHeaderFromATrustedBalancerShouldNameTheClient() throws Exception {
      try (Conversation c = proxied(postern.port("imap-proxied"),
          "PROXY TCP4 192.0.2.1 127.0.0.1 5555 993\r\n")) {
        c.expect("* OK");
        c.send("a LOGIN alice wrong\r\n");
        c.expect("a NO [AUTHENTICATIONFAILED]");
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> logs.lines().stream().anyMatch(
          l -> l.contains("listener=imap-proxied client=192.0.2.1:5555")));
      assertThat(logs.lines()).anyMatch(l -> l.startsWith("login failed")
          && l.contains("client=192.0.2.1 user=alice"));
    }

    /** A header Netty cannot parse is counted as one, not as a failed TLS handshake. */
    @Test
    void aMalformedProxyHeaderShouldCountAsARefusedHeader() throws Exception {
      refusedHeader("PROXY NONSENSE here\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** A well-formed header for UDP: Vert.x refuses it with an exception of its own. */
    @Test
    void aProxyHeaderForUdpShouldCountAsARefusedHeader() throws Exception {
      byte[] v2Udp = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
          0x21, 0x12, 0x00, 0x0C, (byte) 198, 51, 100, 7, 127, 0, 0, 1, 0x1F, (byte) 0x90, 0x03,
          (byte) 0xE3};
      refusedHeader(v2Udp);
    }

    /**
     * Found by ProxyHeaderFuzzTest: a TLV longer than the header comes out of Netty as an
     * IndexOutOfBoundsException (and the connection is closed at handshake-timeout, not at once).
     */
    @Test
    void aVersion2HeaderWithATlvLongerThanItselfShouldCountAsARefusedHeader() throws Exception {
      byte[] v2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
          0x21, 0x11, 0x00, 0x11, (byte) 198, 51, 100, 7, 127, 0, 0, 1, 0x1F, (byte) 0x90, 0x03,
          (byte) 0xE3, 0x30, 0x00, 0x3A, 1, 2};
      refusedHeader(v2);
    }

    private void refusedHeader(byte[] header) throws Exception {
      String[] rejected = {"listener", "imap-proxied", "reason", "proxy_header"};
      String[] failed = {"listener", "imap-proxied", "result", "failure", "version", "none"};
      double rejectedBefore = MetricsReader.value(postern, "postern_connections_rejected_total",
          rejected);
      double failedBefore = MetricsReader.value(postern, "postern_tls_handshakes_total", failed);
      try (Socket raw = new Socket(InetAddress.getLoopbackAddress(),
          postern.port("imap-proxied"))) {
        raw.setSoTimeout(10_000);
        raw.getOutputStream().write(header);
        assertThat(closedWithoutAByte(raw)).as("closed without a byte").isTrue();
      }
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(MetricsReader.value(
          postern, "postern_connections_rejected_total", rejected))
          .isEqualTo(rejectedBefore + 1));
      assertThat(MetricsReader.value(postern, "postern_tls_handshakes_total", failed))
          .isEqualTo(failedBefore);
    }

    @Test
    void aVersion2HeaderShouldWorkToo() throws Exception {
      byte[] v2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
          0x21, 0x11, 0x00, 0x0C, (byte) 198, 51, 100, 7, 127, 0, 0, 1, 0x1F, (byte) 0x90, 0x03,
          (byte) 0xE3};
      try (Conversation c = proxied(postern.port("pop3-proxied"), v2)) {
        c.expect("+OK");
        c.send("QUIT\r\n");
        c.expect("+OK");
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> logs.lines().stream().anyMatch(
          l -> l.contains("listener=pop3-proxied client=198.51.100.7:8080")));
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithoutTrustedNetworks {

    private PosternFixture postern;

    @BeforeAll
    void start() throws Exception {
      postern = PosternFixture.builder(dir.resolve("untrusted")).user("alice", "pw")
          .proxyProtocolListeners().start();
    }

    @AfterAll
    void stop() throws Exception {
      postern.close();
    }

    @Test
    void aProxyHeaderFromAnUntrustedPeerShouldCloseTheConnection() throws Exception {
      try (Socket raw = new Socket(InetAddress.getLoopbackAddress(),
          postern.port("imap-proxied"))) {
        raw.setSoTimeout(10_000);
        boolean greeted;
        try {
          raw.getOutputStream().write("PROXY TCP4 192.0.2.1 127.0.0.1 5555 993\r\n"
              .getBytes(StandardCharsets.US_ASCII));
          SSLSocket tls = (SSLSocket) TestTls.shared("localhost").clientContext()
              .getSocketFactory().createSocket(raw, "localhost", raw.getPort(), true);
          tls.startHandshake();
          greeted = tls.getInputStream().read() >= 0;
        } catch (IOException closed) {
          greeted = false;
        }
        assertThat(greeted).as("an untrusted peer may not claim another address").isFalse();
      }
    }
  }
}
