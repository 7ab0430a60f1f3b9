package io.postern.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SSLSocket;

/** One connection of a {@link FakeBackend}, or the client side in {@link MailClient}. */
public final class Conversation implements AutoCloseable {

  /** The other side closed the connection. */
  public static final class PeerGone extends IOException {
    PeerGone() {
      super("peer closed the connection");
    }
  }

  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private final TestTls tls;
  private final List<String> log;

  Conversation(Socket socket, TestTls tls, List<String> log) throws IOException {
    this.socket = socket;
    this.tls = tls;
    this.log = log;
    socket.setSoTimeout(20_000);
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  public Socket socket() {
    return socket;
  }

  public void send(String text) throws IOException {
    sendRaw(text.getBytes(StandardCharsets.UTF_8));
  }

  public void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /**
   * The next line without CRLF, read byte by byte so that nothing after it is consumed (the
   * next bytes may be a TLS handshake). Throws {@link PeerGone} at end of stream.
   */
  public String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new PeerGone();
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        String text = new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
        if (log != null) {
          log.add(text);
        }
        return text;
      }
      line.write(b);
    }
  }

  /** Reads a line and checks that it starts with {@code prefix}. */
  public String expect(String prefix) throws IOException {
    String line = readLine();
    if (!line.startsWith(prefix)) {
      throw new AssertionError("expected a line starting with '" + prefix + "' but got '" + line
          + "'");
    }
    return line;
  }

  /** Lines up to and including the first that starts with {@code prefix}. */
  public List<String> readUntil(String prefix) throws IOException {
    List<String> lines = new java.util.ArrayList<>();
    String line;
    do {
      line = readLine();
      lines.add(line);
    } while (!line.startsWith(prefix));
    return lines;
  }

  public byte[] readBytes(int n) throws IOException {
    byte[] data = in.readNBytes(n);
    if (data.length < n) {
      throw new PeerGone();
    }
    return data;
  }

  /** True if the peer closes within the timeout without sending anything more. */
  public boolean closedByPeer(int timeoutMillis) throws IOException {
    int old = socket.getSoTimeout();
    socket.setSoTimeout(timeoutMillis);
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    } finally {
      if (!socket.isClosed()) {
        socket.setSoTimeout(old);
      }
    }
  }

  /** Bytes that arrive within the timeout (empty if none). */
  public byte[] available(int timeoutMillis) throws IOException {
    int old = socket.getSoTimeout();
    socket.setSoTimeout(timeoutMillis);
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    try {
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) > 0) {
        got.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      // nothing more
    } finally {
      if (!socket.isClosed()) {
        socket.setSoTimeout(old);
      }
    }
    return got.toByteArray();
  }

  /** Server side of STARTTLS/STLS, or client side when {@code client} is true. */
  public void startTls(boolean client) throws IOException {
    SSLSocket ssl = (SSLSocket) (client ? tls.clientContext() : tls.serverContext())
        .getSocketFactory().createSocket(socket, tls.host(), socket.getPort(), true);
    ssl.setUseClientMode(client);
    ssl.setSoTimeout(20_000);
    ssl.startHandshake();
    socket = ssl;
    in = ssl.getInputStream();
    out = ssl.getOutputStream();
  }

  /** Half-close: a FIN, or on TLS a close_notify (TLS 1.3 lets the other direction go on). */
  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  public boolean isTls() {
    return socket instanceof SSLSocket;
  }

  public String tlsProtocol() {
    return socket instanceof SSLSocket s ? s.getSession().getProtocol() : null;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
