package io.postern.metrics;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/**
 * The operators' HTTP endpoint: {@code /metrics} for Prometheus, {@code /health/live} and
 * {@code /health/ready} for process supervisors and load balancers, and whatever handler it is
 * given for {@code /api/...} (the admin API, which checks its own methods and tokens). Everything
 * else is read-only; loopback by default.
 */
public final class AdminServer {


  /** Operators' tools and a scraper or two: more connections than this are refused. */
  static final int MAX_CONNECTIONS = 64;

  private final PosternMeters meters;
  /** Replaced when a reload changes what readiness depends on; read on the admin event loop. */
  private volatile Readiness readiness;
  private final WorkerExecutor scraper;
  private final Handler<HttpServerRequest> api;
  /** Scrapes in progress by content type; only touched on the admin server's event loop. */
  private final Map<String, Future<String>> scrapes = new HashMap<>();
  private int connections;
  private HttpServer server;

  private AdminServer(Vertx vertx, PosternMeters meters, Readiness readiness,
      Handler<HttpServerRequest> api) {
    this.api = api;
    this.meters = meters;
    this.readiness = readiness;
    this.scraper = vertx.createSharedWorkerExecutor("postern-metrics", 1);
  }

  /** Listens on {@code host} (as Vert.x takes it), {@code port}, without an API. */
  public static Future<AdminServer> start(Vertx vertx, int port, String host,
      PosternMeters meters, Readiness readiness) {
    return start(vertx, port, host, meters, readiness, null);
  }

  /**
   * Listens on {@code host} (as Vert.x takes it), {@code port}; requests for {@code /api} and
   * below go to {@code api} (null: not found), on the server's event loop.
   */
  public static Future<AdminServer> start(Vertx vertx, int port, String host,
      PosternMeters meters, Readiness readiness, Handler<HttpServerRequest> api) {
    AdminServer admin = new AdminServer(vertx, meters, readiness, api);
    // Probers and scrapers reconnect; a connection left open and silent is closed.
    HttpServerOptions options = new HttpServerOptions()
        .setIdleTimeout(60)
        .setMaxInitialLineLength(1024)
        .setMaxHeaderSize(8192);
    return vertx.createHttpServer(options)
        .connectionHandler(admin::connected)
        .requestHandler(admin::handle)
        .listen(port, host)
        .map(s -> {
          admin.server = s;
          return admin;
        })
        .andThen(ar -> {
          if (ar.failed()) {
            admin.scraper.close();
          }
        });
  }

  private void connected(HttpConnection connection) {
    if (connections >= MAX_CONNECTIONS) {
      connection.close();
      return;
    }
    connections++;
    connection.closeHandler(v -> connections--);
  }

  /** A reloaded configuration's readiness check; the previous one is closed. */
  public Future<Void> readiness(Readiness next) {
    Readiness previous = readiness;
    readiness = next;
    return previous.close();
  }

  public int port() {
    return server.actualPort();
  }

  public Future<Void> close() {
    return (server == null ? Future.<Void>succeededFuture() : server.close())
        .eventually(() -> readiness.close())
        .eventually(scraper::close);
  }

  private void handle(HttpServerRequest request) {
    String path = request.path();
    if (api != null && path != null && (path.equals("/api") || path.startsWith("/api/"))) {
      api.handle(request);
      return;
    }
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      request.response().setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
      return;
    }
    switch (request.path()) {
      case "/metrics" -> metrics(request);
      case "/health/live" -> json(request, 200, new JsonObject().put("status", "live"));
      case "/health/ready" -> readiness.check().onComplete(ar -> {
        if (ar.succeeded()) {
          json(request, ar.result().ready() ? 200 : 503, ar.result().body());
        } else {
          json(request, 503, new JsonObject().put("status", "not ready"));
        }
      });
      default -> request.response().setStatusCode(404)
          .putHeader("Content-Type", "text/plain; charset=utf-8")
          .end("Not found. Try /metrics, /health/live or /health/ready.\n");
    }
  }

  private void metrics(HttpServerRequest request) {
    String accept = request.getHeader("Accept");
    String type = PosternMeters.contentType(accept);
    // Formatting thousands of series is CPU work of milliseconds: not on an event loop, not on
    // the workers that hash passwords, and once for any number of scrapers asking at once.
    Future<String> scrape = scrapes.get(type);
    if (scrape == null) {
      scrape = scraper.executeBlocking(() -> meters.scrape(accept), false);
      scrapes.put(type, scrape);
      scrape.onComplete(ar -> scrapes.remove(type));
    }
    scrape.onComplete(ar -> {
      if (ar.failed()) {
        request.response().setStatusCode(500).end();
        return;
      }
      request.response().putHeader("Content-Type", type).end(ar.result());
    });
  }

  private static void json(HttpServerRequest request, int status, JsonObject body) {
    request.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(body.encode() + "\n");
  }
}
