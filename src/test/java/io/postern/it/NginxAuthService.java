package io.postern.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;

/**
 * A real nginx mail {@code auth_http} service ({@code src/test/resources/auth/nginx_auth_service.py},
 * Python's standard library only) run as a child process on a loopback port the OS picks. The same
 * service answers nginx's mail proxy ({@link NginxMailProxy}) and Postern's {@code auth.source: http}.
 *
 * <p>Users are a JSON file that the service re-reads on every request, so {@link #writeUsers} takes
 * effect at once. Every request is logged before it is answered; {@link #requests()} reads them back:
 * <pre>
 * {"request_line": "GET /auth HTTP/1.0", "path": "/auth", "client": "127.0.0.1",
 *  "headers": [["Host", "127.0.0.1"], ["Auth-Method", "plain"], ["Auth-User", "al%20ice"], ...],
 *  "user": "al ice", "password": "...", "answer": [["Auth-Status", "OK"], ["Auth-Server", ...], ...]}
 * </pre>
 * Header values are exactly as received: still %-escaped, and each byte one char (ISO-8859-1), so
 * {@code header(r, "Auth-User").getBytes(ISO_8859_1)} gives back the bytes on the wire. {@code user} and
 * {@code password} are the decoded values (null if they were not UTF-8).
 */
public final class NginxAuthService implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);

  /**
   * How the service answers besides the users file: {@code waitSeconds} goes out as {@code Auth-Wait}
   * with every wrong-password answer (0: no Auth-Wait header, so nginx closes the connection);
   * {@code requiredHeaders} must all be in a request, else it gets {@code Auth-Status: Forbidden}.
   */
  public record Options(int waitSeconds, Map<String, String> requiredHeaders) {

    public static final Options DEFAULT = new Options(0, Map.of());

    public Options {
      if (waitSeconds < 0) {
        throw new IllegalArgumentException("waitSeconds must be >= 0: " + waitSeconds);
      }
      requiredHeaders = Map.copyOf(requiredHeaders);
    }

    public Options withWait(int seconds) {
      return new Options(seconds, requiredHeaders);
    }

    public Options withRequiredHeader(String name, String value) {
      Map<String, String> headers = new LinkedHashMap<>(requiredHeaders);
      headers.put(name, value);
      return new Options(waitSeconds, headers);
    }
  }

  private final ServiceProcess process;
  private final List<String> command;
  private final Path users;
  private final Path log;
  private final int port;

  private NginxAuthService(ServiceProcess process, List<String> command, Path users, Path log,
      int port) {
    this.process = process;
    this.command = command;
    this.users = users;
    this.log = log;
    this.port = port;
  }

  /** Starts the service with files under dir; {@code users} as for {@link #writeUsers}. */
  public static NginxAuthService start(Path dir, Map<String, ? extends Map<String, ?>> users) throws Exception {
    return start(dir, users, Options.DEFAULT);
  }

  public static NginxAuthService start(Path dir, Map<String, ? extends Map<String, ?>> users, Options options)
      throws Exception {
    Path python = RealParts.require("python3");
    Path root = Files.createDirectories(dir.toAbsolutePath().normalize());
    Path script = root.resolve("nginx_auth_service.py");
    try (InputStream in = NginxAuthService.class.getResourceAsStream("/auth/nginx_auth_service.py")) {
      if (in == null) {
        throw new IllegalStateException("no /auth/nginx_auth_service.py on the test class path");
      }
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    Path usersFile = root.resolve("users.json");
    writeUsers(usersFile, users);
    Path log = root.resolve("requests.jsonl");
    List<String> command = new ArrayList<>(List.of(python.toString(), "-I", script.toString(),
        "--users", usersFile.toString(), "--log", log.toString(),
        "--wait", Integer.toString(options.waitSeconds())));
    options.requiredHeaders().forEach((name, value) -> {
      command.add("--require-header");
      command.add(name + ":" + value);
    });
    // stdout carries only the port line; stderr gets http.server's one line per request.
    ServiceProcess process = new ServiceProcess("nginx auth_http service",
        root.resolve("auth-service.out"), STOP_TIMEOUT);
    MatchResult listening = process.start(new ProcessBuilder(onPort(command, 0)), START_TIMEOUT,
        LISTENING);
    return new NginxAuthService(process, List.copyOf(command), usersFile, log,
        Integer.parseInt(listening.group(1)));
  }

  /** Stops the service, as an outage would; {@link #restart} brings it back on the same port. */
  public void stop() {
    process.stop();
  }

  /** Starts the service again on its port, with the same users and options, and waits for it. */
  public void restart() throws Exception {
    process.stop();
    process.launch(new ProcessBuilder(onPort(command, port)));
    process.awaitReady(START_TIMEOUT, () -> LISTENING.matcher(process.output()).find());
  }

  private static List<String> onPort(List<String> command, int port) {
    List<String> withPort = new ArrayList<>(command);
    withPort.addAll(List.of("--port", Integer.toString(port)));
    return withPort;
  }

  /**
   * One user entry: the password the client types, and where the account lives. Add the optional
   * keys {@code user}, {@code pass} (rewritten backend login), {@code backend} (sent as
   * {@code Auth-Backend}), {@code server_tls} (sent as {@code Auth-Server-TLS}) to a copy as needed.
   */
  public static Map<String, Object> user(String password, String server, int imapPort, int pop3Port) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("password", password);
    entry.put("server", server);
    entry.put("imap_port", imapPort);
    entry.put("pop3_port", pop3Port);
    return entry;
  }

  public int port() {
    return port;
  }

  /** For nginx's {@code auth_http} and Postern's auth URL alike. */
  public String url() {
    return "http://127.0.0.1:" + port + "/auth";
  }

  /**
   * Replaces the users file (login → entry with {@code password}, {@code server}, {@code imap_port},
   * {@code pop3_port} and the optional keys, see {@link #user}); the next request sees it.
   */
  public void writeUsers(Map<String, ? extends Map<String, ?>> newUsers) throws IOException {
    writeUsers(users, newUsers);
  }

  /** Every request so far, oldest first, as logged (see the class comment). */
  public List<JsonObject> requests() throws IOException {
    if (!Files.exists(log)) {
      return List.of();
    }
    List<JsonObject> result = new ArrayList<>();
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        result.add(new JsonObject(line));
      }
    }
    return result;
  }

  /** Forgets the requests logged so far. */
  public void clearRequests() throws IOException {
    Files.deleteIfExists(log);
  }

  /** The first value of header {@code name} (any case) in a logged request, raw; empty if absent. */
  public static Optional<String> header(JsonObject request, String name) {
    JsonArray headers = request.getJsonArray("headers");
    for (int i = 0; i < headers.size(); i++) {
      JsonArray pair = headers.getJsonArray(i);
      if (pair.getString(0).equalsIgnoreCase(name)) {
        return Optional.of(pair.getString(1));
      }
    }
    return Optional.empty();
  }

  /** All headers of a logged request, names lower-cased, first value of each, in arrival order. */
  public static Map<String, String> headers(JsonObject request) {
    Map<String, String> result = new LinkedHashMap<>();
    for (Object pair : request.getJsonArray("headers")) {
      JsonArray p = (JsonArray) pair;
      result.putIfAbsent(p.getString(0).toLowerCase(Locale.ROOT), p.getString(1));
    }
    return result;
  }

  /** What the service answered a logged request: header name → value, in order. */
  public static Map<String, String> answer(JsonObject request) {
    Map<String, String> result = new LinkedHashMap<>();
    for (Object pair : request.getJsonArray("answer")) {
      JsonArray p = (JsonArray) pair;
      result.put(p.getString(0), p.getString(1));
    }
    return result;
  }

  /** The service's stdout and stderr (port line, one line per request, Python tracebacks). */
  public String output() throws IOException {
    return process.output();
  }

  @Override
  public void close() {
    process.close();
  }

  @Override
  public String toString() {
    return "nginx auth_http service on " + url() + " (" + process + ")";
  }

  // Written next to the file and renamed over it, so the service never reads half a file.
  private static void writeUsers(Path file, Map<String, ? extends Map<String, ?>> users) throws IOException {
    JsonObject json = new JsonObject();
    users.forEach((login, entry) -> json.put(login, new JsonObject(new LinkedHashMap<String, Object>(entry))));
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temporary, json.encodePrettily(), StandardCharsets.UTF_8);
    Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
