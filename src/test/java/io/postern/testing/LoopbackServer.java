package io.postern.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * What {@link FakeBackend} and {@link FakeAuthService} share: a blocking server socket on
 * loopback whose every connection is served on its own daemon thread. Closing it closes the
 * connections too, so a test's fakes never keep Postern's sessions alive.
 */
final class LoopbackServer implements AutoCloseable {

  private final ServerSocket server;
  private final String name;
  private final Consumer<Socket> connection;
  private final AtomicInteger accepted = new AtomicInteger();
  private final List<Socket> open = Collections.synchronizedList(new ArrayList<>());

  /** Serves each connection {@code server} accepts with {@code connection}. */
  LoopbackServer(ServerSocket server, String name, Consumer<Socket> connection) {
    this.server = server;
    this.name = name;
    this.connection = connection;
    Thread accept = new Thread(this::acceptLoop, name + "-" + server.getLocalPort());
    accept.setDaemon(true);
    accept.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Connections accepted so far, counted before they are served. */
  int accepted() {
    return accepted.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        accepted.incrementAndGet();
        open.add(socket);
        Thread t = new Thread(() -> connection.accept(socket), name + "-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    synchronized (open) {
      for (Socket s : open) {
        s.close();
      }
    }
  }
}
