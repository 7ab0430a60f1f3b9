package io.postern.auth;

import io.postern.config.OAuth2Config;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.oauth2.OAuth2Auth;
import io.vertx.ext.auth.oauth2.OAuth2Options;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Tokens checked by asking the issuer (RFC 7662), through Vert.x's {@link OAuth2Auth}: a POST of
 * {@code token=...} with the client's id and secret in HTTP Basic auth. Only
 * {@code "active": true} is a yes; {@code "active": false} or an expired {@code exp} is a no;
 * no answer within the timeout, an HTTP error or an answer that is not RFC 7662's is
 * {@link TokenCheck.Unavailable}. {@code iss} and {@code aud} are checked when configured.
 * No keys are given to OAuth2Auth, so it never trusts a JWT on its own: every token is asked
 * about.
 */
final class TokenIntrospection implements AutoCloseable {

  /** How long an answer keeps the source ready without asking again. */
  static final Duration READY_FOR = Duration.ofSeconds(30);
  private static final String INACTIVE = "Inactive Token";
  private static final String EXPIRED = "User token is expired.";

  /**
   * At most this many questions to the endpoint at once; more are answered "unavailable" at
   * once. Vert.x's OAuth2 client queues requests without a limit, each holding a token.
   */
  static final int MAX_IN_FLIGHT = 256;

  private final java.util.concurrent.atomic.AtomicInteger inFlight =
      new java.util.concurrent.atomic.AtomicInteger();
  private final OAuth2Config config;
  private final OAuth2Auth oauth2;
  private final Context context;
  private volatile long lastAnswer = System.nanoTime() - READY_FOR.toNanos() - 1;

  TokenIntrospection(Vertx vertx, OAuth2Config config, HttpClientOptions http,
      String clientSecret) {
    this.config = config;
    this.context = vertx.getOrCreateContext();
    this.oauth2 = OAuth2Auth.create(vertx, new OAuth2Options()
        .setClientId(config.clientId())
        .setClientSecret(clientSecret)
        .setUseBasicAuthorization(true)
        .setIntrospectionPath(config.introspectionUrl())
        .setHttpClientOptions(http)
        .setJWTOptions(new JWTOptions().setLeeway((int) config.clockSkew().toSeconds())));
  }

  Future<TokenCheck> check(String token) {
    // Counted until the endpoint answers, not until the login gives up waiting: a request that
    // timed out still holds its place in the HTTP client's queue, with the token.
    if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
      inFlight.decrementAndGet();
      return Future.succeededFuture(new TokenCheck.Unavailable("introspection "
          + HttpAuthenticator.where(config.introspectionUrl()) + ": " + MAX_IN_FLIGHT
          + " requests already waiting for it"));
    }
    // On the source's own event loop: a login may come from any thread, and a response read
    // from elsewhere could end before its handlers are set.
    Promise<User> asked = Promise.promise();
    context.runOnContext(v -> oauth2.authenticate(new TokenCredentials(token))
        .onComplete(ar -> {
          inFlight.decrementAndGet();
          asked.handle(ar);
        }));
    return asked.future()
        .timeout(config.timeout().toMillis(), TimeUnit.MILLISECONDS)
        .transform(ar -> {
          if (ar.failed()) {
            String m = String.valueOf(ar.cause().getMessage());
            if (m.equals(INACTIVE) || m.equals(EXPIRED)) {
              answered();
              return Future.succeededFuture(new TokenCheck.Invalid(
                  m.equals(INACTIVE) ? "inactive token (active: false)" : "expired"));
            }
            return Future.succeededFuture(new TokenCheck.Unavailable("introspection "
                + HttpAuthenticator.where(config.introspectionUrl()) + ": "
                + TokenEndpoints.describe(ar.cause(), token)));
          }
          answered();
          return Future.succeededFuture(claims(ar.result().principal()));
        });
  }

  /**
   * Ready while an answer came within {@link #READY_FOR}; else asks about a made-up token (an
   * RFC 7662 endpoint answers {@code active: false}).
   */
  Future<Void> ready() {
    if (System.nanoTime() - lastAnswer < READY_FOR.toNanos()) {
      return Future.succeededFuture();
    }
    return check("postern-readiness-" + UUID.randomUUID()).compose(c ->
        c instanceof TokenCheck.Unavailable u ? Future.failedFuture(u.why())
            : Future.succeededFuture());
  }

  @Override
  public void close() {
    if (oauth2 instanceof io.vertx.core.Closeable closeable) {
      closeable.close(Promise.promise());
    }
  }

  private void answered() {
    lastAnswer = System.nanoTime();
  }

  private TokenCheck claims(JsonObject answer) {
    JsonObject claims = answer.copy();
    // OAuth2Auth puts the token into the answer: it is no claim, and a secret.
    claims.remove("access_token");
    if (!Boolean.TRUE.equals(claims.getValue("active"))) {
      return new TokenCheck.Unavailable("introspection "
          + HttpAuthenticator.where(config.introspectionUrl())
          + " gave no \"active\": true or false (not an RFC 7662 answer)");
    }
    if (config.issuer() != null && !config.issuer().equals(claims.getValue("iss"))) {
      return new TokenCheck.Invalid("wrong issuer");
    }
    if (!config.audience().isEmpty() && !audienceMatches(claims.getValue("aud"))) {
      return new TokenCheck.Invalid("wrong audience");
    }
    return new TokenCheck.Valid(claims);
  }

  private boolean audienceMatches(Object aud) {
    if (aud instanceof String s) {
      return config.audience().contains(s);
    }
    if (aud instanceof JsonArray a) {
      return a.stream().anyMatch(config.audience()::contains);
    }
    return false;
  }
}
