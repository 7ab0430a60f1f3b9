package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.AuthConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listener listens where its {@code address} says: {@code 0.0.0.0} on every IPv4 address and
 * no IPv6 one, {@code ::} on both, a single address on that one only; the admin endpoint too.
 * (Only loopback addresses are connected to.)
 */
class ListenAddressTest {

  @TempDir
  Path dir;

  @Test
  void eachListenerShouldTakeConnectionsOnlyWhereItsAddressSays() throws Exception {
    try (PosternFixture postern = PosternFixture.builder(dir).user("alice", "pw")
        .cleartext(AuthConfig.Cleartext.ALLOW)
        .listener("all-ipv4", Protocol.IMAP, "0.0.0.0", TlsMode.NONE)
        .listener("all", Protocol.IMAP, "::", TlsMode.NONE)
        .listener("v6-loopback", Protocol.POP3, "::1", TlsMode.NONE)
        .start()) {
      assertThat(greets("127.0.0.1", postern.port("all-ipv4"))).isTrue();
      assertThat(greets("::1", postern.port("all-ipv4"))).as("IPv6 to 0.0.0.0").isFalse();

      assertThat(greets("127.0.0.1", postern.port("all"))).as("IPv4 to ::").isTrue();
      assertThat(greets("::1", postern.port("all"))).isTrue();

      assertThat(greets("::1", postern.port("v6-loopback"))).isTrue();
      assertThat(greets("127.0.0.1", postern.port("v6-loopback"))).isFalse();

      // The fixture's own listeners are on 127.0.0.1.
      assertThat(greets("127.0.0.1", postern.port("imap"))).isTrue();
      assertThat(greets("::1", postern.port("imap"))).isFalse();
    }
  }

  @Test
  void theAdminEndpointOnTheIpv4WildcardShouldNotTakeIpv6() throws Exception {
    try (PosternFixture postern = PosternFixture.builder(dir).user("alice", "pw")
        .adminAddress("0.0.0.0").start()) {
      int port = postern.server().adminPort();
      assertThat(connects("127.0.0.1", port)).isTrue();
      assertThat(connects("::1", port)).isFalse();
    }
  }

  @Test
  void theAdminEndpointOnTheIpv6WildcardShouldTakeBoth() throws Exception {
    try (PosternFixture postern = PosternFixture.builder(dir).user("alice", "pw")
        .adminAddress("::").start()) {
      int port = postern.server().adminPort();
      assertThat(connects("127.0.0.1", port)).isTrue();
      assertThat(connects("::1", port)).isTrue();
    }
  }

  /** True if a connection to {@code host} gets Postern's greeting; false if it is refused. */
  private static boolean greets(String host, int port) throws IOException {
    Socket socket = connect(host, port);
    if (socket == null) {
      return false;
    }
    try (Conversation c = MailClient.wrap(socket, null)) {
      String greeting = c.readLine();
      assertThat(greeting).matches("(\\* OK|\\+OK) .*");
      return true;
    }
  }

  private static boolean connects(String host, int port) throws IOException {
    Socket socket = connect(host, port);
    if (socket != null) {
      socket.close();
    }
    return socket != null;
  }

  /** A connected socket, or null if the connection was refused. */
  private static Socket connect(String host, int port) throws IOException {
    Socket socket = new Socket();
    try {
      socket.connect(new InetSocketAddress(InetAddress.getByName(host), port), 5000);
      return socket;
    } catch (ConnectException refused) {
      socket.close();
      return null;
    }
  }
}
