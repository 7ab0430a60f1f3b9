package io.postern.testing;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Port numbers on 127.0.0.1 for the few places that need a number rather than a socket bound to
 * port 0: a program that has to be told its port (Dovecot, nginx), or an address that must refuse
 * connections.
 */
public final class Ports {

  private static final String LOOPBACK = "127.0.0.1";
  /** Above the well-known and most registered services' ports. */
  private static final int LOWEST = 10_000;
  private static final int DEFAULT_EPHEMERAL_START = 32_768;
  private static final java.util.Random RANDOM = new java.security.SecureRandom();

  private Ports() {}

  /**
   * {@code count} different ports that were free a moment ago. Another process may still take
   * one before the program binds it: a harness that uses these retries on such a clash.
   *
   * <p>They lie below the system's ephemeral range, so that no outgoing connection is given one
   * as its local port: a server stopped and started again on its ports (a test of a backend
   * coming back) would otherwise find one taken by some client's connection in the meantime.
   */
  public static int[] free(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int below = ephemeralStart();
      // All held open together, so they are different ports.
      for (int tries = 0; sockets.size() < count; tries++) {
        if (tries > 1000) {
          throw new IOException("no free port between " + LOWEST + " and " + below);
        }
        int port = LOWEST + RANDOM.nextInt(below - LOWEST);
        try {
          sockets.add(new ServerSocket(port, 1, InetAddress.getByName(LOOPBACK)));
        } catch (BindException taken) {
          // Someone has it: another one.
        }
      }
      return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }

  /** Where the ephemeral range begins (Linux's default when it cannot be read). */
  private static int ephemeralStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      int start = Integer.parseInt(range.split("\\s+")[0]);
      return start > LOWEST + 1000 ? start : DEFAULT_EPHEMERAL_START;
    } catch (IOException | RuntimeException e) {
      return DEFAULT_EPHEMERAL_START;
    }
  }

  /** A port nobody listens on: connecting to it is refused. */
  public static int closed() throws IOException {
    return free(1)[0];
  }
}
