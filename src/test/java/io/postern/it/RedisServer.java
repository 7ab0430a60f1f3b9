package io.postern.it;

import io.postern.testing.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A private {@code redis-server} from Debian on a loopback port: no persistence, its files in
 * {@code dir}, stopped by pid. {@link #stop()} and {@link #restart()} make an outage and the
 * recovery from it, on the same port.
 */
public final class RedisServer implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  private static final int START_ATTEMPTS = 3;

  private final Path binary;
  private final Path dir;
  private final ServiceProcess process;
  private int port;

  private RedisServer(Path binary, Path dir) {
    this.binary = binary;
    this.dir = dir;
    this.process = new ServiceProcess("redis-server in " + dir, dir.resolve("redis.out"),
        STOP_GRACE);
  }

  /** Starts one in {@code dir}; skips the test without the program, fails on CI. */
  public static RedisServer start(Path dir) throws Exception {
    Path binary = RealParts.require("redis-server");
    RedisServer server = new RedisServer(binary,
        ServiceProcess.configurableDirectory(dir, "redis-server"));
    server.process.startOnFreePorts(START_ATTEMPTS, () -> {
      server.port = Ports.free(1)[0];
      server.launch();
    });
    return server;
  }

  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:<port>}. */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Stops the server (SIGTERM, by pid): connections to it are refused until a restart. */
  public void stop() {
    process.stop();
  }

  /** Starts it again on the same port, empty (nothing is saved). */
  public void restart() throws Exception {
    process.stop();
    launch();
  }

  /** SIGSTOP: the server keeps its connections but answers nothing (a hung Redis). */
  public void pause() throws IOException, InterruptedException {
    signal("-STOP");
  }

  /** SIGCONT after {@link #pause()}: it answers again, the calls it held first. */
  public void resume() throws IOException, InterruptedException {
    signal("-CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid()))
        .redirectErrorStream(true).start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill " + signal + " " + process + " failed: "
          + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /** Sends one command (inline form) and returns the raw reply's first line. */
  public String command(String inline) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
      socket.setSoTimeout(2_000);
      OutputStream out = socket.getOutputStream();
      out.write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return readReply(socket.getInputStream());
    }
  }

  @Override
  public void close() {
    process.close();
  }

  @Override
  public String toString() {
    return process + " on port " + port;
  }

  private void launch() throws IOException, InterruptedException {
    process.launch(new ProcessBuilder(binary.toString(), "--port", Integer.toString(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
        "--daemonize", "no"));
    process.awaitReady(START_TIMEOUT, () -> {
      try {
        return command("PING").equals("+PONG");
      } catch (IOException notYet) {
        return false;
      }
    });
  }

  /** A reply: a simple line, or for a bulk string its content, or for an array its lines. */
  private static String readReply(InputStream in) throws IOException {
    String line = readLine(in);
    if (line.startsWith("$")) {
      int length = Integer.parseInt(line.substring(1));
      return length < 0 ? null : readLine(in);
    }
    if (line.startsWith("*")) {
      int n = Integer.parseInt(line.substring(1));
      StringBuilder all = new StringBuilder();
      for (int i = 0; i < n; i++) {
        all.append(i == 0 ? "" : "\n").append(readReply(in));
      }
      return all.toString();
    }
    return line;
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int c;
    while ((c = in.read()) != '\r') {
      if (c < 0) {
        throw new IOException("redis-server closed the connection");
      }
      line.append((char) c);
    }
    in.read();
    return line.toString();
  }
}
