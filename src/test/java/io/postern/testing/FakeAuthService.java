package io.postern.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An nginx {@code auth_http} service on a loopback port, scripted by the test. It speaks HTTP/1.1
 * with keep-alive over plain sockets (one thread per connection) so that it sees the request
 * exactly as it came over the wire, header order and raw bytes included, and can answer anything,
 * garbage too. Header values are ISO-8859-1 strings: one char per byte, either way.
 */
public final class FakeAuthService implements AutoCloseable {

  /** One request header, as received. */
  public record Header(String name, String value) {}

  /** One request as it arrived. */
  public record Request(String requestLine, List<Header> headers) {

    public Request {
      headers = List.copyOf(headers);
    }

    /** The first value of header {@code name} (any case), or null. */
    public String header(String name) {
      for (Header h : headers) {
        if (h.name().equalsIgnoreCase(name)) {
          return h.value();
        }
      }
      return null;
    }

    /** The value's raw bytes. */
    public byte[] headerBytes(String name) {
      String v = header(name);
      return v == null ? null : v.getBytes(StandardCharsets.ISO_8859_1);
    }

    public List<String> names() {
      return headers.stream().map(Header::name).toList();
    }

    public String user() {
      return header("Auth-User");
    }
  }

  /** What the service answers; build with the static methods and {@link #with}. */
  public record Reply(int status, List<Header> headers, String body, Duration delay,
      byte[] raw, boolean keepOpen) {

    public Reply {
      headers = List.copyOf(headers);
    }

    /** {@code Auth-Status: OK} sending the user to {@code server}:{@code port}. */
    public static Reply ok(String server, int port) {
      return status("OK").with("Auth-Server", server).with("Auth-Port", String.valueOf(port));
    }

    /** {@code Auth-Status: OK} with nothing else: the configured default backend. */
    public static Reply ok() {
      return status("OK");
    }

    /** A failure: {@code Auth-Status} with this text. */
    public static Reply failure(String text) {
      return status(text);
    }

    /** HTTP 200 with this {@code Auth-Status}. */
    public static Reply status(String authStatus) {
      return http(200, "").with("Auth-Status", authStatus);
    }

    /** This HTTP status and body, and no headers yet. */
    public static Reply http(int status, String body) {
      return new Reply(status, List.of(), body, Duration.ZERO, null, true);
    }

    /** These bytes instead of an HTTP response, then the connection is closed. */
    public static Reply raw(String bytes) {
      return new Reply(0, List.of(), "", Duration.ZERO,
          bytes.getBytes(StandardCharsets.ISO_8859_1), false);
    }

    /** These bytes, then nothing more, with the connection left open: a stuck service. */
    public static Reply stuck(String bytes) {
      return new Reply(0, List.of(), "", Duration.ZERO,
          bytes.getBytes(StandardCharsets.ISO_8859_1), true);
    }

    /** Adds a header; the value's chars are written as one byte each (ISO-8859-1). */
    public Reply with(String name, String value) {
      List<Header> more = new ArrayList<>(headers);
      more.add(new Header(name, value));
      return new Reply(status, more, body, delay, raw, keepOpen);
    }

    /** Answers only after {@code wait}: a slow service. */
    public Reply after(Duration wait) {
      return new Reply(status, headers, body, wait, raw, keepOpen);
    }
  }

  /** Chooses the answer to one request. */
  @FunctionalInterface
  public interface Script {
    Reply answer(Request request) throws Exception;
  }

  private final LoopbackServer server;
  private final ScheduledExecutorService writer = Executors.newScheduledThreadPool(4, r -> {
    Thread t = new Thread(r, "fake-auth-writer");
    t.setDaemon(true);
    return t;
  });
  private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
  private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
  private volatile Script script;

  private FakeAuthService(ServerSocket server, Script script) {
    this.script = script;
    this.server = new LoopbackServer(server, "fake-auth", this::serve);
  }

  public static FakeAuthService start(Script script) throws IOException {
    return new FakeAuthService(new ServerSocket(0, 200, InetAddress.getLoopbackAddress()),
        script);
  }

  /** Replaces the script for the requests from now on. */
  public void script(Script next) {
    this.script = Objects.requireNonNull(next);
  }

  /** {@code http://127.0.0.1:PORT/auth} */
  public String url() {
    return "http://127.0.0.1:" + server.port() + "/auth";
  }

  public List<Request> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** Requests whose {@code Auth-User} is exactly {@code user} (as sent, i.e. escaped). */
  public List<Request> requestsFor(String user) {
    return requests().stream().filter(r -> user.equals(r.user())).toList();
  }

  public int count() {
    return requests.size();
  }

  public void clear() {
    requests.clear();
  }

  /** Scripts that threw, and connections that broke in a way no client should cause. */
  public List<Throwable> failures() {
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        Request request = read(in);
        if (request == null) {
          return;
        }
        requests.add(request);
        Reply reply;
        try {
          reply = script.answer(request);
        } catch (Exception | AssertionError e) {
          failures.add(e);
          reply = Reply.http(500, "script failed");
        }
        byte[] bytes = encode(reply);
        boolean close = !reply.keepOpen();
        if (reply.delay().isZero()) {
          write(socket, out, bytes, close);
        } else {
          // The next request cannot come before this answer (no pipelining), so reading on
          // meanwhile only notices the client giving up.
          writer.schedule(() -> write(socket, out, bytes, close), reply.delay().toMillis(),
              TimeUnit.MILLISECONDS);
        }
      }
    } catch (IOException e) {
      // The client went away, e.g. after its deadline: what a real service sees too.
    }
  }

  private static void write(Socket socket, OutputStream out, byte[] bytes, boolean close) {
    try {
      synchronized (out) {
        out.write(bytes);
        out.flush();
      }
      if (close) {
        socket.close();
      }
    } catch (IOException e) {
      // The client gave up waiting.
    }
  }

  private static byte[] encode(Reply reply) {
    if (reply.raw() != null) {
      return reply.raw();
    }
    byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder("HTTP/1.1 ").append(reply.status()).append(' ')
        .append(reply.status() == 200 ? "OK" : "Status").append("\r\n");
    for (Header h : reply.headers()) {
      head.append(h.name()).append(": ").append(h.value()).append("\r\n");
    }
    head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
    byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[h.length + body.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(body, 0, all, h.length, body.length);
    return all;
  }

  /** One request head (a GET has no body), or null at end of stream. */
  private static Request read(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    String[] lines = text.substring(0, text.length() - 4).split("\r\n", -1);
    List<Header> headers = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.add(new Header(lines[i].substring(0, colon), ows(lines[i].substring(colon + 1))));
    }
    String contentLength = new Request(lines[0], headers).header("Content-Length");
    if (contentLength != null && !contentLength.equals("0")) {
      in.readNBytes(Integer.parseInt(contentLength.trim()));
    }
    if (!lines[0].toUpperCase(Locale.ROOT).startsWith("GET ")) {
      throw new IOException("not a GET: " + lines[0]);
    }
    return new Request(lines[0], headers);
  }

  /** Without the spaces and tabs HTTP allows around a value; nothing else is trimmed. */
  private static String ows(String value) {
    int start = 0;
    int end = value.length();
    while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
      end--;
    }
    return value.substring(start, end);
  }

  @Override
  public void close() throws IOException {
    server.close();
    writer.shutdownNow();
  }
}
