package io.postern.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLServerSocketFactory;

/**
 * A scripted mail server on a loopback port, one thread per connection: each connection runs the
 * script against a {@link Conversation}. Blocking I/O keeps scripts readable, including faults
 * (silence, early close, injected bytes) that a real server would never produce.
 */
public final class FakeBackend implements AutoCloseable {

  /** What the server does on one connection. */
  @FunctionalInterface
  public interface Script {
    void run(Conversation conversation) throws Exception;
  }

  private final Script script;
  private final TestTls tls;
  private final List<String> received = Collections.synchronizedList(new ArrayList<>());
  private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
  private final LoopbackServer server;

  private FakeBackend(ServerSocket server, Script script, TestTls tls) {
    this.script = script;
    this.tls = tls;
    this.server = new LoopbackServer(server, "fake-backend", this::serve);
  }

  /** A plaintext backend; {@code tls} is used if the script upgrades with STARTTLS. */
  public static FakeBackend start(Script script, TestTls tls) throws IOException {
    return new FakeBackend(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), script, tls);
  }

  /**
   * A plaintext backend on a chosen loopback address and port ({@code 0}: any free port), e.g.
   * {@code 127.0.0.2} on the port another backend got on {@code 127.0.0.1}, to tell hosts apart.
   */
  public static FakeBackend start(Script script, TestTls tls, InetAddress address, int port)
      throws IOException {
    if (!address.isLoopbackAddress()) {
      throw new IllegalArgumentException("fake backends listen on loopback only: " + address);
    }
    return new FakeBackend(new ServerSocket(port, 50, address), script, tls);
  }

  /** An implicit-TLS backend presenting {@code tls}'s certificate. */
  public static FakeBackend startImplicitTls(Script script, TestTls tls) throws IOException {
    SSLServerSocketFactory factory = tls.serverContext().getServerSocketFactory();
    return new FakeBackend(factory.createServerSocket(0, 50, InetAddress.getLoopbackAddress()),
        script, tls);
  }

  public int port() {
    return server.port();
  }

  public int connections() {
    return server.accepted();
  }

  /** Every line any connection received, in arrival order. */
  public List<String> received() {
    synchronized (received) {
      return List.copyOf(received);
    }
  }

  /** Exceptions scripts threw (other than the peer going away). */
  public List<Throwable> failures() {
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }

  private void serve(Socket socket) {
    try (Conversation c = new Conversation(socket, tls, received)) {
      script.run(c);
    } catch (Conversation.PeerGone e) {
      // The proxy closed the connection: a normal end for most scripts.
    } catch (Throwable e) {
      failures.add(e);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
