package io.postern.admin;

import io.postern.logging.LogText;
import io.postern.session.SessionView;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API under {@code /api/}: JSON in answers and errors ({@code {"error": "..."}}),
 * query parameters in, never a body. Calls that change anything ({@code POST}) need
 * {@code Authorization: Bearer <token>} with the token from {@code admin.token-file}, and are
 * refused outright when no file is configured. Listing sessions shows user names and client
 * addresses, so it needs the token too when one is configured; without one it is open, as the
 * admin endpoint listens on loopback by default. Every call that changes something, done or
 * refused, is logged in one line. Runs on the admin server's event loop.
 */
public final class AdminApi implements Handler<HttpServerRequest> {

  private static final Logger LOG = LoggerFactory.getLogger("postern.admin");
  /** User and server names are short; anything longer is not one. */
  static final int MAX_ARGUMENT = 256;
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  /** One API path: its method, its parameters (all required for a mutating call). */
  private record Route(String path, HttpMethod method, String what, List<String> params,
      boolean mutating) {}

  private static final Map<String, Route> ROUTES = new LinkedHashMap<>();

  static {
    for (Route r : List.of(
        new Route("/api/sessions", HttpMethod.GET, "sessions", List.of("user", "server"), false),
        new Route("/api/sessions/kick", HttpMethod.POST, "kick", List.of("user"), true),
        new Route("/api/servers/drain", HttpMethod.POST, "drain-server", List.of("server"), true),
        new Route("/api/servers/undrain", HttpMethod.POST, "undrain-server", List.of("server"),
            true),
        new Route("/api/drain", HttpMethod.POST, "drain", List.of(), true),
        new Route("/api/reload", HttpMethod.POST, "reload", List.of(), true))) {
      ROUTES.put(r.path(), r);
    }
  }

  /** An answer that is not 200: its status and error text (and extra fields). */
  private static final class Refusal extends RuntimeException {
    final int status;
    final JsonObject extra;

    Refusal(int status, String error) {
      this(status, error, null);
    }

    Refusal(int status, String error, JsonObject extra) {
      super(error, null, false, false);
      this.status = status;
      this.extra = extra;
    }
  }

  private final Vertx vertx;
  private final AdminActions actions;
  private final AdminToken token;
  private final TokenLockout lockout;

  /** Without {@code admin.token-file} ({@link AdminToken#configured}), mutating calls are refused. */
  public AdminApi(Vertx vertx, AdminActions actions, AdminToken token) {
    this(vertx, actions, token, new TokenLockout());
  }

  AdminApi(Vertx vertx, AdminActions actions, AdminToken token, TokenLockout lockout) {
    this.vertx = vertx;
    this.actions = actions;
    this.token = token;
    this.lockout = lockout;
  }

  @Override
  public void handle(HttpServerRequest request) {
    Route route = ROUTES.get(request.path());
    if (route == null) {
      answer(request, null, null, new Refusal(404, "no such API path " + printable(
          request.path()) + "; the API has " + String.join(", ", ROUTES.keySet())), null);
      return;
    }
    if (request.method() != route.method()) {
      request.response().putHeader("Allow", route.method().name());
      answer(request, route, null, new Refusal(405, route.path() + " takes "
          + route.method().name() + " only"), null);
      return;
    }
    if (hasBody(request)) {
      answer(request, route, null, new Refusal(413, "the API takes no request body; pass"
          + " arguments as query parameters"), null);
      return;
    }
    Map<String, String> args;
    try {
      args = arguments(route, request.params());
    } catch (Refusal r) {
      authorize(request, route).onComplete(ar -> answer(request, route, null,
          ar.failed() ? ar.cause() : r, null));
      return;
    }
    Future<JsonObject> answered = authorize(request, route).compose(v -> call(route, args));
    if (route.what().equals("sessions")) {
      // Tens of thousands of sessions take a while to write out (built and encoded on a
      // worker): not on an event loop, which the admin endpoint shares with the listeners.
      answered.compose(body -> vertx.executeBlocking(body::encode, false)).onComplete(ar ->
          answer(request, route, args, ar.failed() ? ar.cause() : null, null, ar.result()));
      return;
    }
    answered.onComplete(ar -> answer(request, route, args, ar.failed() ? ar.cause() : null,
        ar.result()));
  }

  /**
   * Succeeds when the caller may make this call: the right bearer token, or a listing without a
   * token configured. Refusals say how to get it right, never what the token is.
   */
  private Future<Void> authorize(HttpServerRequest request, Route route) {
    if (!token.configured()) {
      if (route.mutating()) {
        return Future.failedFuture(new Refusal(403, "the admin API's changing calls are off:"
            + " set admin.token-file to a file holding a token (openssl rand -hex 32 > FILE;"
            + " chmod 600 FILE) and send it as Authorization: Bearer <token>"));
      }
      if (!literalHost(request.authority())) {
        // Without a token, a web page could read sessions from loopback by DNS rebinding.
        return Future.failedFuture(new Refusal(403, "without admin.token-file the API answers"
            + " only requests for an address (127.0.0.1, [::1]) or localhost, not a name"));
      }
      return Future.succeededFuture();
    }
    String header = request.getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)
        || header.substring(7).isBlank()) {
      return Future.failedFuture(new Refusal(401, "this call needs Authorization: Bearer"
          + " <token>, the token in admin.token-file"));
    }
    String from = from(request);
    // The right token always passes: a 256-bit token gains nothing from a lockout, and anyone
    // sharing the operator's address (loopback, a port-forward) could otherwise lock them out.
    // Only wrong tokens are slowed.
    return token.matches(header.substring(7).strip()).recover(e -> {
      LOG.error("admin: admin.token-file: {}", e.getMessage());
      return Future.failedFuture(new Refusal(500, "admin.token-file cannot be read; see the"
          + " log"));
    }).compose(right -> {
      if (right) {
        lockout.succeeded(from);
        return Future.succeededFuture();
      }
      Duration locked = lockout.lockedFor(from);
      if (!locked.isZero()) {
        request.response().putHeader("Retry-After",
            Long.toString(Math.max(1, (locked.toMillis() + 999) / 1000)));
        return Future.failedFuture(new Refusal(429, "too many wrong tokens from " + from
            + "; try again later"));
      }
      if (lockout.failed(from)) {
        LOG.warn("admin: {} wrong tokens in a row from={}; refusing its tokens for {}s",
            TokenLockout.MAX_FAILURES, from, TokenLockout.LOCKOUT.toSeconds());
      }
      return Future.failedFuture(new Refusal(401, "wrong token"));
    });
  }

  /** The route's parameters, each once and not empty; a mutating call needs them all. */
  private static Map<String, String> arguments(Route route, MultiMap params) {
    for (String name : params.names()) {
      if (!route.params().contains(name)) {
        throw new Refusal(400, "unknown parameter " + printable(name) + "; " + route.path()
            + (route.params().isEmpty() ? " takes none"
                : " takes " + String.join(", ", route.params())));
      }
    }
    Map<String, String> args = new LinkedHashMap<>();
    for (String name : route.params()) {
      List<String> values = params.getAll(name);
      if (values.size() > 1) {
        throw new Refusal(400, "parameter " + name + " is given more than once");
      }
      String value = values.isEmpty() ? null : values.get(0);
      if (value != null && (value.isBlank() || value.length() > MAX_ARGUMENT)) {
        throw new Refusal(400, "parameter " + name + " must be 1 to " + MAX_ARGUMENT
            + " characters");
      }
      if (value == null && route.mutating()) {
        throw new Refusal(400, route.path() + " needs ?" + name + "=");
      }
      args.put(name, value);
    }
    return args;
  }

  private Future<JsonObject> call(Route route, Map<String, String> args) {
    Future<JsonObject> answer = switch (route.what()) {
      case "sessions" -> actions.sessions(args.get("user"), args.get("server"))
          .compose(list -> vertx.executeBlocking(() -> sessions(list), false));
      case "kick" -> actions.kick(args.get("user"))
          .map(n -> new JsonObject().put("user", args.get("user")).put("sessions", n));
      case "drain-server" -> actions.drainServer(args.get("server"))
          .map(d -> serverDrain(d, true));
      case "undrain-server" -> actions.undrainServer(args.get("server"))
          .map(d -> serverDrain(d, false));
      case "drain" -> actions.drain()
          .map(n -> new JsonObject().put("draining", true).put("sessions", n));
      case "reload" -> actions.reload().compose(AdminApi::reload);
      default -> throw new IllegalStateException(route.what());
    };
    return answer.recover(e -> Future.failedFuture(refusal(e)));
  }

  private static Refusal refusal(Throwable e) {
    if (e instanceof Refusal r) {
      return r;
    }
    if (e instanceof AdminActions.UnknownServer) {
      return new Refusal(404, e.getMessage());
    }
    if (e instanceof AdminActions.AmbiguousServer || e instanceof IllegalStateException) {
      return new Refusal(409, e.getMessage());
    }
    if (e instanceof UnsupportedOperationException) {
      return new Refusal(501, e.getMessage());
    }
    LOG.error("admin: call failed", e);
    return new Refusal(500, "failed: " + (e.getMessage() == null ? e.getClass().getSimpleName()
        : e.getMessage()));
  }

  static JsonObject sessions(List<SessionView> views) {
    JsonArray out = new JsonArray();
    for (SessionView v : views) {
      out.add(new JsonObject()
          .put("session", v.id())
          .put("user", v.user())
          .put("client", new JsonObject().put("ip", v.clientIp()).put("port", v.clientPort()))
          .put("listener", v.listener())
          .put("protocol", v.protocol())
          .put("backend", v.backend())
          .put("server", v.server())
          .put("tls", v.tls())
          .put("since", v.since() == null ? null : v.since().toString())
          .put("to_client", v.bytesToClient())
          .put("to_backend", v.bytesToBackend())
          .put("logged_in", v.loggedIn()));
    }
    return new JsonObject().put("count", views.size()).put("sessions", out);
  }

  /** A drain says how many sessions it is ending; an undrain ends none. */
  private static JsonObject serverDrain(AdminActions.ServerDrain d, boolean drained) {
    JsonObject body = new JsonObject().put("servers", new JsonArray(List.copyOf(d.servers())))
        .put("drained", drained);
    return drained ? body.put("sessions", d.sessions()) : body;
  }

  private static Future<JsonObject> reload(AdminActions.Reload r) {
    JsonObject body = new JsonObject().put("applied", r.applied())
        .put("changes", new JsonArray(List.copyOf(r.changes())));
    if (r.applied()) {
      return Future.succeededFuture(body);
    }
    body.put("errors", new JsonArray(List.copyOf(r.errors())));
    // Refused before anything changed (an invalid file, a drain under way), or stopped part-way
    // (a new listener could not bind): then "changes" says what was applied.
    return Future.failedFuture(new Refusal(409, r.changes().isEmpty()
        ? "the reload was refused; nothing changed" : "the reload failed part-way", body));
  }

  /** Sends the answer or the refusal; logs a mutating call, whatever became of it. */
  private void answer(HttpServerRequest request, Route route, Map<String, String> args,
      Throwable failure, JsonObject body) {
    answer(request, route, args, failure, body, null);
  }

  /** {@code encoded}: the body already written out, or null to encode {@code body}. */
  private void answer(HttpServerRequest request, Route route, Map<String, String> args,
      Throwable failure, JsonObject body, String encoded) {
    int status = 200;
    if (failure != null) {
      Refusal r = refusal(failure);
      status = r.status;
      body = (r.extra == null ? new JsonObject() : r.extra.copy()).put("error", r.getMessage());
      encoded = null;
      if (status == 401) {
        request.response().putHeader("WWW-Authenticate", "Bearer realm=\"postern\"");
      }
    }
    if (route != null && route.mutating()) {
      log(route, args, request, status, body);
    }
    // A body is never read: the connection is not reused after it.
    boolean close = hasBody(request);
    if (close) {
      request.response().putHeader("Connection", "close");
    }
    request.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end((encoded != null ? encoded : body.encode()) + "\n")
        .onComplete(ar -> {
          if (close) {
            request.connection().close();
          }
        });
  }

  /** One line: what, its arguments, the outcome, from where, e.g. {@code admin: kick user=alice sessions=2 from=127.0.0.1}. */
  private static void log(Route route, Map<String, String> args, HttpServerRequest request,
      int status, JsonObject body) {
    StringBuilder line = new StringBuilder("admin: ").append(route.what());
    if (args != null) {
      args.forEach((k, v) -> line.append(' ').append(k).append('=').append(printable(v)));
    }
    if (status == 200) {
      if (body.containsKey("servers")) {
        line.append(" servers=").append(String.join(",",
            body.getJsonArray("servers").getList()));
      }
      if (body.containsKey("sessions")) {
        line.append(" sessions=").append(body.getValue("sessions"));
      }
      if (body.containsKey("applied")) {
        line.append(" applied=true changes=").append(body.getJsonArray("changes").size());
      }
    } else {
      line.append(" refused=").append(status).append(" error=\"")
          .append(printable(body.getString("error"))).append('"');
    }
    line.append(" from=").append(from(request));
    LOG.info("{}", line);
  }

  private static String from(HttpServerRequest request) {
    return request.remoteAddress() == null ? "?" : request.remoteAddress().hostAddress();
  }

  private static boolean hasBody(HttpServerRequest request) {
    if (request.headers().contains("Transfer-Encoding")) {
      return true;
    }
    String length = request.getHeader("Content-Length");
    return length != null && !length.strip().equals("0");
  }

  /** An address literal or localhost: what no DNS answer can make a web page's own name. */
  private static boolean literalHost(HostAndPort authority) {
    if (authority == null) {
      return false;
    }
    String host = authority.host().toLowerCase(Locale.ROOT);
    return host.equals("localhost") || host.contains(":") || host.startsWith("[")
        || IPV4.matcher(host).matches();
  }

  private static String printable(String text) {
    if (text == null) {
      return "";
    }
    String one = LogText.oneLine(text);
    return one.length() > MAX_ARGUMENT ? one.substring(0, MAX_ARGUMENT) + "…" : one;
  }
}
