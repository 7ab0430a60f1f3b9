package io.postern.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/** Opens raw client connections to Postern (or any loopback server) for byte-exact tests. */
public final class MailClient {

  private MailClient() {}

  /** A conversation over a socket the test connected itself (e.g. from a chosen address). */
  public static Conversation wrap(Socket socket, TestTls tls) throws IOException {
    return new Conversation(socket, tls, null);
  }

  public static Conversation plain(int port, TestTls tls) throws IOException {
    return new Conversation(new Socket(InetAddress.getLoopbackAddress(), port), tls, null);
  }

  public static Conversation implicitTls(int port, TestTls tls) throws IOException {
    return implicitTls(tls.clientContext(), InetAddress.getLoopbackAddress(), port, tls);
  }

  /** Implicit TLS to {@code host} (e.g. {@code ::1}), port {@code port}. */
  public static Conversation implicitTls(String host, int port, TestTls tls) throws IOException {
    return implicitTls(tls.clientContext(), InetAddress.getByName(host), port, tls);
  }

  /** A plaintext connection to loopback {@code port} from the local address {@code from}. */
  public static Conversation plainFrom(String from, int port, TestTls tls) throws IOException {
    return new Conversation(socketFrom(from, port), tls, null);
  }

  /**
   * Implicit TLS to loopback {@code port} from the local address {@code from}, e.g.
   * {@code 127.0.0.2} (Linux routes all of 127/8 to loopback): another client address.
   */
  public static Conversation implicitTlsFrom(String from, int port, TestTls tls)
      throws IOException {
    Socket plain = socketFrom(from, port);
    SSLSocket socket = (SSLSocket) tls.clientContext().getSocketFactory()
        .createSocket(plain, tls.host(), port, true);
    socket.startHandshake();
    return new Conversation(socket, tls, null);
  }

  private static Socket socketFrom(String from, int port) throws IOException {
    Socket socket = new Socket();
    try {
      socket.bind(new java.net.InetSocketAddress(InetAddress.getByName(from), 0));
      socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port),
          10_000);
      return socket;
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  /** Implicit TLS trusting only the PEM certificate {@code trusted}. */
  public static Conversation implicitTls(int port, java.nio.file.Path trusted) throws IOException {
    return implicitTls(TestTls.trusting(trusted), InetAddress.getLoopbackAddress(), port, null);
  }

  private static Conversation implicitTls(SSLContext client, InetAddress address, int port,
      TestTls tls) throws IOException {
    SSLSocket socket = (SSLSocket) client.getSocketFactory().createSocket(address, port);
    socket.startHandshake();
    return new Conversation(socket, tls, null);
  }
}
