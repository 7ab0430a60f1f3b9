package io.postern.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
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
    SSLSocket socket = (SSLSocket) tls.clientContext().getSocketFactory()
        .createSocket(InetAddress.getLoopbackAddress(), port);
    socket.startHandshake();
    return new Conversation(socket, tls, null);
  }

  /** Implicit TLS trusting only the PEM certificate {@code trusted}. */
  public static Conversation implicitTls(int port, java.nio.file.Path trusted) throws IOException {
    SSLSocket socket = (SSLSocket) TestTls.trusting(trusted).getSocketFactory()
        .createSocket(InetAddress.getLoopbackAddress(), port);
    socket.startHandshake();
    return new Conversation(socket, null, null);
  }
}
