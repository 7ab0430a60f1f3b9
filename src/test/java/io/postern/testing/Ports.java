package io.postern.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Port numbers on 127.0.0.1 for the few places that need a number rather than a socket bound to
 * port 0: a program that has to be told its port (Dovecot, nginx), or an address that must refuse
 * connections.
 */
public final class Ports {

  private static final String LOOPBACK = "127.0.0.1";

  private Ports() {}

  /**
   * {@code count} different ports that were free a moment ago. Another process may still take
   * one before the program binds it: a harness that uses these retries on such a clash.
   */
  public static int[] free(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      // All held open together, so they are different ports.
      for (int i = 0; i < count; i++) {
        sockets.add(new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK)));
      }
      return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  /** A port nobody listens on: connecting to it is refused. */
  public static int closed() throws IOException {
    return free(1)[0];
  }
}
