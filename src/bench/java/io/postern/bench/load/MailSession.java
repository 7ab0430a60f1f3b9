package io.postern.bench.load;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;

/**
 * One blocking IMAP or POP3 client session through the proxy: implicit TLS or STARTTLS/STLS,
 * LOGIN or USER/PASS, NOOP, the large message (BODY[] or RETR, counted, not kept), LOGOUT/QUIT.
 * Any answer that is not OK / +OK is an {@link IOException} naming the command.
 */
final class MailSession implements AutoCloseable {

  enum Protocol { IMAP, POP3 }

  // Long for a loaded machine, short enough that a session stuck in the proxy shows as a
  // failure instead of holding its client thread.
  private static final int TIMEOUT_MILLIS = 20_000;
  private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\}$");

  private final Protocol protocol;
  private final ClientTls tls;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private int tag;

  private MailSession(Protocol protocol, ClientTls tls) {
    this.protocol = protocol;
    this.tls = tls;
  }

  /** Connects, does TLS (at once, or after STARTTLS/STLS) and reads the greeting. */
  static MailSession open(Protocol protocol, boolean implicitTls, int port, ClientTls tls)
      throws IOException {
    return open(protocol, implicitTls, port, tls, 0);
  }

  /** The same from client thread {@code worker} (see {@link ClientTls#wrap}). */
  static MailSession open(Protocol protocol, boolean implicitTls, int port, ClientTls tls,
      int worker) throws IOException {
    MailSession session = new MailSession(protocol, tls);
    try {
      Socket plain = new Socket();
      plain.setTcpNoDelay(true);
      plain.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
      plain.setSoTimeout(TIMEOUT_MILLIS);
      session.use(plain);
      if (implicitTls) {
        session.use(tls.wrap(plain, port, worker));
        session.expectGreeting();
      } else {
        session.expectGreeting();
        session.ok(protocol == Protocol.IMAP ? "STARTTLS" : "STLS");
        session.use(tls.wrap(plain, port, worker));
      }
      return session;
    } catch (IOException | RuntimeException e) {
      session.close();
      throw e;
    }
  }

  void login(String user, String password) throws IOException {
    if (protocol == Protocol.IMAP) {
      ok("LOGIN " + user + " " + password);
    } else {
      ok("USER " + user);
      ok("PASS " + password);
    }
  }

  void noop() throws IOException {
    ok("NOOP");
  }

  void select() throws IOException {
    ok("SELECT INBOX");
  }

  /** IMAP IDLE: sends it and waits for the continuation; returns the tag DONE will end. */
  String idle() throws IOException {
    String tagged = send("IDLE");
    String line = readLine();
    if (!line.startsWith("+")) {
      throw new IOException("IDLE: " + line);
    }
    return tagged;
  }

  /** Ends the IDLE begun with {@code tagged}; untagged updates before its OK are skipped. */
  void done(String tagged) throws IOException {
    out.write("DONE\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    readTagged(tagged, "IDLE");
  }

  /** Fetches (IMAP BODY[]) or retrieves (POP3 RETR) message 1; returns the bytes received. */
  long fetchFirstMessage() throws IOException {
    if (protocol == Protocol.POP3) {
      ok("RETR 1");
      return readDotTerminated();
    }
    String tagged = send("FETCH 1 BODY[]");
    String line = readLine();
    Matcher literal = LITERAL.matcher(line);
    if (!literal.find()) {
      throw new IOException("FETCH: no literal in " + line);
    }
    long size = Long.parseLong(literal.group(1));
    long left = size;
    byte[] scratch = new byte[64 * 1024];
    while (left > 0) {
      int n = in.read(scratch, 0, (int) Math.min(scratch.length, left));
      if (n < 0) {
        throw new IOException("FETCH: connection closed with " + left + " bytes to come");
      }
      left -= n;
    }
    readTagged(tagged, "FETCH");
    return size;
  }

  /** LOGOUT / QUIT and its answer, then the connection is closed. */
  void logout() throws IOException {
    ok(protocol == Protocol.IMAP ? "LOGOUT" : "QUIT");
    if (socket instanceof SSLSocket ssl) {
      tls.done(ssl);
    }
    close();
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // Closing is all that is left to do.
      }
    }
  }

  private void use(Socket next) throws IOException {
    socket = next;
    // Small: up to 10 000 sessions are held at once; large transfers read past it in 64 KiB.
    in = new BufferedInputStream(next.getInputStream(), 8 * 1024);
    out = next.getOutputStream();
  }

  private void expectGreeting() throws IOException {
    String greeting = readLine();
    if (!greeting.startsWith(protocol == Protocol.IMAP ? "* OK" : "+OK")) {
      throw new IOException("greeting: " + greeting);
    }
  }

  private void ok(String command) throws IOException {
    String tagged = send(command);
    if (protocol == Protocol.POP3) {
      String answer = readLine();
      if (!answer.startsWith("+OK")) {
        throw new IOException(verb(command) + ": " + answer);
      }
      return;
    }
    readTagged(tagged, verb(command));
  }

  private String send(String command) throws IOException {
    String tagged = protocol == Protocol.IMAP ? "t" + (++tag) : "";
    String line = (tagged.isEmpty() ? "" : tagged + " ") + command + "\r\n";
    out.write(line.getBytes(StandardCharsets.UTF_8));
    out.flush();
    return tagged;
  }

  private void readTagged(String tagged, String verb) throws IOException {
    String prefix = tagged + " ";
    while (true) {
      String line = readLine();
      if (line.startsWith(prefix)) {
        if (!line.startsWith(prefix + "OK")) {
          throw new IOException(verb + ": " + line);
        }
        return;
      }
    }
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream(128);
    int previous = -1;
    while (true) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after: " + line.toString(StandardCharsets.UTF_8));
      }
      if (b == '\n' && previous == '\r') {
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
      }
      line.write(b);
      previous = b;
    }
  }

  /** POP3 multi-line: up to CRLF.CRLF (the "+OK" line was read); returns the bytes before it. */
  private long readDotTerminated() throws IOException {
    byte[] end = {'\r', '\n', '.', '\r', '\n'};
    // The body starts right after the +OK line's CRLF, so an empty body is ".\r\n" at once.
    int matched = 2;
    long bytes = 0;
    byte[] scratch = new byte[64 * 1024];
    while (true) {
      int n = in.read(scratch);
      if (n < 0) {
        throw new IOException("RETR: connection closed after " + bytes + " bytes");
      }
      for (int i = 0; i < n; i++) {
        byte b = scratch[i];
        if (b == end[matched]) {
          matched++;
          if (matched == end.length) {
            return bytes + i + 1 - end.length;
          }
        } else {
          matched = b == '\r' ? 1 : 0;
        }
      }
      bytes += n;
    }
  }

  private static String verb(String command) {
    int space = command.indexOf(' ');
    return space < 0 ? command : command.substring(0, space);
  }
}
