package io.postern.it.soak;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A bare IMAP client connection to Postern for what Python's imaplib cannot do (IDLE): lines
 * and literals over TLS, implicit or after STARTTLS, with the server name checked.
 */
final class ImapConnection implements AutoCloseable {

  /** A command's tagged answer and the untagged lines and literals before it. */
  record Reply(String tagged, List<String> untagged, List<byte[]> literals) {
    boolean ok() {
      return tagged.split(" ", 3)[1].equalsIgnoreCase("OK");
    }
  }

  private static final Pattern LITERAL = Pattern.compile(".*\\{(\\d+)\\}$");
  private static final String HOST = "localhost";

  private final Socket socket;
  private InputStream in;
  private OutputStream out;
  private int tags;

  private ImapConnection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new BufferedInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Connects from {@code source} and reads the greeting (after the handshake, for implicit TLS). */
  static ImapConnection open(int port, String source, boolean implicitTls, SSLContext tls,
      Duration timeout) throws IOException {
    Socket plain = new Socket();
    try {
      plain.setSoTimeout((int) timeout.toMillis());
      plain.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
      plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
          (int) timeout.toMillis());
      ImapConnection connection = new ImapConnection(implicitTls ? wrap(plain, port, tls) : plain);
      String greeting = connection.readLine();
      if (!greeting.startsWith("* OK")) {
        throw new IOException("greeting: " + greeting);
      }
      if (!implicitTls) {
        Reply starttls = connection.command("STARTTLS");
        if (!starttls.ok()) {
          throw new IOException("STARTTLS: " + starttls.tagged());
        }
        return new ImapConnection(wrap(plain, port, tls));
      }
      return connection;
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  /** Sends {@code tag text} and reads up to its tagged answer. */
  Reply command(String text) throws IOException {
    String tag = "s" + ++tags;
    send(tag + " " + text);
    return replyTo(tag);
  }

  /** Sends a line as is (e.g. {@code DONE}). */
  void send(String line) throws IOException {
    out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** The tag the next {@link #command} gets; for commands sent in pieces, like IDLE. */
  String nextTag() {
    return "s" + ++tags;
  }

  /** Reads untagged lines (with their literals) up to the line tagged {@code tag}. */
  Reply replyTo(String tag) throws IOException {
    List<String> untagged = new ArrayList<>();
    List<byte[]> literals = new ArrayList<>();
    while (true) {
      String line = readLine();
      Matcher literal = LITERAL.matcher(line);
      while (literal.matches()) {
        literals.add(readBytes(Integer.parseInt(literal.group(1))));
        line = line + " " + readLine();
        literal = LITERAL.matcher(line);
      }
      if (line.startsWith(tag + " ")) {
        return new Reply(line, untagged, literals);
      }
      untagged.add(line);
    }
  }

  String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int previous = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("closed by the server" + (line.size() > 0 ? " after: "
            + line.toString(StandardCharsets.ISO_8859_1) : ""));
      }
      if (b == '\n' && previous == '\r') {
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
      previous = b;
    }
  }

  void timeout(Duration timeout) throws IOException {
    socket.setSoTimeout((int) timeout.toMillis());
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private byte[] readBytes(int n) throws IOException {
    byte[] bytes = in.readNBytes(n);
    if (bytes.length < n) {
      throw new EOFException("closed inside a literal of " + n + " bytes");
    }
    return bytes;
  }

  private static SSLSocket wrap(Socket plain, int port, SSLContext tls) throws IOException {
    SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, HOST, port, true);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    parameters.setServerNames(List.of(new SNIHostName(HOST)));
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    return socket;
  }
}
