package io.postern.metrics;

import io.postern.config.AdminConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;

/**
 * The operators' HTTP endpoint: {@code /metrics} for Prometheus, {@code /health/live} and
 * {@code /health/ready} for process supervisors and load balancers. Read-only; loopback by
 * default.
 */
public final class AdminServer {

  private final Vertx vertx;
  private final PosternMeters meters;
  private final Readiness readiness;
  private HttpServer server;

  private AdminServer(Vertx vertx, PosternMeters meters, Readiness readiness) {
    this.vertx = vertx;
    this.meters = meters;
    this.readiness = readiness;
  }

  public static Future<AdminServer> start(Vertx vertx, AdminConfig config, PosternMeters meters,
      Readiness readiness) {
    AdminServer admin = new AdminServer(vertx, meters, readiness);
    // Probers and scrapers reconnect; a connection left open and silent is closed.
    HttpServerOptions options = new HttpServerOptions()
        .setIdleTimeout(60)
        .setMaxInitialLineLength(1024)
        .setMaxHeaderSize(8192);
    return vertx.createHttpServer(options)
        .requestHandler(admin::handle)
        .listen(config.port(), config.address())
        .map(s -> {
          admin.server = s;
          return admin;
        });
  }

  public int port() {
    return server.actualPort();
  }

  public Future<Void> close() {
    return (server == null ? Future.<Void>succeededFuture() : server.close())
        .eventually(readiness::close);
  }

  private void handle(HttpServerRequest request) {
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
    // Formatting thousands of series is CPU work of milliseconds: not on an event loop.
    vertx.executeBlocking(() -> meters.scrape(accept), false).onComplete(ar -> {
      if (ar.failed()) {
        request.response().setStatusCode(500).end();
        return;
      }
      request.response()
          .putHeader("Content-Type", PosternMeters.contentType(accept))
          .end(ar.result());
    });
  }

  private static void json(HttpServerRequest request, int status, JsonObject body) {
    request.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(body.encode() + "\n");
  }
}
