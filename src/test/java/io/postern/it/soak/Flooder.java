package io.postern.it.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Bursts of connections that never log in, from one address per burst, as a cheap attacker or a
 * broken scanner sends them: silent connections, TLS handshakes that stop halfway, garbage lines
 * (and one line far over the limit), and connections reset at once. Each connection ends when
 * Postern closes it or when the burst's hold time is over.
 */
final class Flooder {

  /** A kind of flood. */
  enum Kind { SILENT, HALF_TLS, GARBAGE, RESET }

  /** How one flood connection ended. */
  enum End { NOT_CONNECTED, CLOSED_BY_POSTERN, HELD }

  // A TLS record header announcing a 512-byte handshake message, and the start of a ClientHello.
  private static final byte[] HALF_CLIENT_HELLO = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00,
      0x01, (byte) 0xfc, 0x03, 0x03, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final Map<String, Integer> ports;
  private final ExecutorService threads;

  Flooder(Map<String, Integer> ports, ExecutorService threads) {
    this.ports = Map.copyOf(ports);
    this.threads = threads;
  }

  /** One burst of {@code kind} from {@code source}; returns how each connection ended. */
  List<End> burst(Kind kind, String source, Random random) throws InterruptedException {
    int size = switch (kind) {
      case SILENT -> 20 + random.nextInt(100);
      case HALF_TLS -> 20 + random.nextInt(60);
      case GARBAGE -> 5 + random.nextInt(15);
      case RESET -> 20 + random.nextInt(80);
    };
    Duration hold = Duration.ofMillis(switch (kind) {
      case SILENT -> 2_000 + random.nextInt(28_000);
      case HALF_TLS, GARBAGE -> 25_000;
      case RESET -> 0;
    });
    List<String> listeners = kind == Kind.HALF_TLS ? List.of("imaps", "pop3s")
        : kind == Kind.GARBAGE ? List.of("imap", "pop3", "imaps") : List.of("imap", "imaps", "pop3", "pop3s");
    List<Future<End>> ends = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      String listener = listeners.get(random.nextInt(listeners.size()));
      long seed = random.nextLong();
      ends.add(threads.submit(() -> connection(kind, listener, source, hold, new Random(seed))));
    }
    List<End> result = new ArrayList<>();
    for (Future<End> end : ends) {
      try {
        result.add(end.get());
      } catch (java.util.concurrent.ExecutionException e) {
        result.add(End.NOT_CONNECTED);
      }
    }
    return result;
  }

  private End connection(Kind kind, String listener, String source, Duration hold, Random random) {
    try (Socket socket = new Socket()) {
      try {
        socket.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(),
            ports.get(listener)), (int) CONNECT_TIMEOUT.toMillis());
      } catch (IOException e) {
        return End.NOT_CONNECTED;
      }
      try {
        OutputStream out = socket.getOutputStream();
        switch (kind) {
          case RESET -> {
            socket.setSoLinger(true, 0);
            return End.HELD;
          }
          case HALF_TLS -> out.write(HALF_CLIENT_HELLO);
          case GARBAGE -> out.write(garbage(listener, random));
          case SILENT -> { }
        }
        out.flush();
        return drainUntil(socket, System.nanoTime() + hold.toNanos());
      } catch (IOException e) {
        // Reset by Postern while we wrote: it has closed the connection.
        return End.CLOSED_BY_POSTERN;
      }
    } catch (IOException e) {
      return End.CLOSED_BY_POSTERN;
    }
  }

  /** Reads (and drops) whatever comes until Postern closes the connection or the time is up. */
  private static End drainUntil(Socket socket, long deadline) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[4096];
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return End.HELD;
      }
      socket.setSoTimeout((int) Math.max(1, left / 1_000_000));
      try {
        if (in.read(buffer) < 0) {
          return End.CLOSED_BY_POSTERN;
        }
      } catch (SocketTimeoutException e) {
        return End.HELD;
      }
    }
  }

  /**
   * Lines no protocol accepts (random tags, 8-bit bytes, NUL), or on a TLS port bytes that are
   * not a ClientHello; now and then one line far over {@code max-line}.
   */
  private static byte[] garbage(String listener, Random random) {
    if (listener.endsWith("s")) {
      return "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    }
    StringBuilder text = new StringBuilder();
    if (random.nextInt(5) == 0) {
      text.append("x1 NOOP ").append("A".repeat(20_000)).append("\r\n");
    }
    for (int i = 0; i < 12; i++) {
      text.append(Integer.toHexString(random.nextInt())).append(' ');
      for (int j = random.nextInt(60); j > 0; j--) {
        text.append((char) (random.nextBoolean() ? 0x21 + random.nextInt(0x5e) : 0x80 + random.nextInt(0x80)));
      }
      text.append(random.nextInt(10) == 0 ? "\0" : "").append("\r\n");
    }
    return text.toString().getBytes(StandardCharsets.ISO_8859_1);
  }
}
