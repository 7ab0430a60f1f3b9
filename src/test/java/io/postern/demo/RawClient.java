package io.postern.demo;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A blocking plain-socket client for protocol edge cases no real client would produce. */
final class RawClient implements AutoCloseable {

  private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\}$");

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawClient(int port) throws IOException {
    socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(10_000);
    in = new BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  RawClient send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.UTF_8));
  }

  RawClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** One line without its CRLF; fails if the server sends a bare LF or closes mid-line. */
  String line() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int previous = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("Connection closed after: " + line.toString(StandardCharsets.UTF_8));
      }
      if (b == '\n') {
        if (previous != '\r') {
          throw new IOException("Bare LF after: " + line.toString(StandardCharsets.UTF_8));
        }
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
      }
      line.write(b);
      previous = b;
    }
  }

  byte[] bytes(int count) throws IOException {
    byte[] data = in.readNBytes(count);
    if (data.length != count) {
      throw new EOFException("Expected " + count + " bytes, got " + data.length);
    }
    return data;
  }

  /**
   * Everything up to and including the tagged completion of {@code tag}, literals inlined, as text.
   * Good for {@code contains} assertions; use {@link #line()} and {@link #bytes(int)} for exact
   * bytes.
   */
  String untilTagged(String tag) throws IOException {
    StringBuilder transcript = new StringBuilder();
    while (true) {
      String line = line();
      transcript.append(line).append("\r\n");
      Matcher literal = LITERAL.matcher(line);
      while (literal.find()) {
        transcript.append(
            new String(bytes(Integer.parseInt(literal.group(1))), StandardCharsets.UTF_8));
        line = line();
        transcript.append(line).append("\r\n");
        literal = LITERAL.matcher(line);
      }
      if (line.startsWith(tag + " ")) {
        return transcript.toString();
      }
    }
  }

  /** Reads a POP3 multi-line response body (after its status line) up to the lone dot. */
  byte[] dotTerminated() throws IOException {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    while (true) {
      String line = line();
      if (line.equals(".")) {
        return data.toByteArray();
      }
      data.writeBytes((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  /** True once the server has closed the connection; fails if it stays open for 10 s. */
  boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      // A reset is also a close.
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
