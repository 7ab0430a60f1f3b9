package io.postern.auth;

import io.postern.config.OAuth2Config;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.NoSuchKeyIdException;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.impl.jose.JWK;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.security.SignatureException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JWTs checked by Vert.x's {@link JWTAuth} against the issuer's JWKS: signature, {@code iss},
 * {@code aud}, and {@code exp}/{@code nbf}/{@code iat} with the configured skew; a token without
 * {@code exp} is refused. The keys are fetched at start and every {@code jwks-refresh}; a fetch
 * that fails keeps the keys already held. A token naming a key not held makes the keys be
 * fetched again (a key rotated since the last fetch), at most once per
 * {@link #UNKNOWN_KID_INTERVAL}, so that made-up key ids cannot
 * make Postern hammer the issuer. Only asymmetric signing keys are taken: an HMAC key in a public
 * JWKS would let anyone sign, and a verifier with no keys at all would accept unsigned tokens.
 */
final class JwksVerifier implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(JwksVerifier.class);

  /** How often a token with an unknown key id may make the keys be fetched again. */
  static final Duration UNKNOWN_KID_INTERVAL = Duration.ofSeconds(30);
  /** How often logins may retry the fetch while no keys are held at all. */
  static final Duration RETRY_WITHOUT_KEYS = Duration.ofSeconds(2);
  /** A JWKS larger than this is refused (a few keys take a few KiB). */
  static final int MAX_JWKS_BYTES = 1 << 20;

  private static final Set<String> SIGNING_KEY_TYPES = Set.of("RSA", "EC", "OKP");

  private final Vertx vertx;
  private final OAuth2Config config;
  private final HttpClient client;
  private final Context context;
  private final long refreshTimer;
  /** Guarded by this. */
  private JWTAuth verifier;
  private Future<JWTAuth> fetching;
  private long lastFetch;
  /** When a token with an unknown key last made the keys be fetched; null: never. */
  private Long unknownKeyFetch;
  private boolean fetchedOnce;
  private String lastProblem = "not fetched yet";
  private int fetches;

  JwksVerifier(Vertx vertx, OAuth2Config config, HttpClient client) {
    this.vertx = vertx;
    this.config = config;
    this.client = client;
    this.context = vertx.getOrCreateContext();
    fetch();
    this.refreshTimer = vertx.setPeriodic(config.jwksRefresh().toMillis(), id -> fetch());
  }

  /** Whether keys are held. */
  synchronized boolean loaded() {
    return verifier != null;
  }

  /** How many fetches were started (tests, logs). */
  synchronized int fetches() {
    return fetches;
  }

  /** Succeeds once keys are held; without them, asks for them (bounded as logins are). */
  Future<Void> ready() {
    return keys().mapEmpty();
  }

  Future<TokenCheck> check(String token) {
    return keys().transform(ar -> ar.failed()
        ? Future.succeededFuture(new TokenCheck.Unavailable("no JWKS keys: " + lastProblem()))
        : verify(ar.result(), token, true));
  }

  @Override
  public void close() {
    vertx.cancelTimer(refreshTimer);
  }

  private Future<TokenCheck> verify(JWTAuth keys, String token, boolean mayRefresh) {
    return keys.authenticate(new TokenCredentials(token)).transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(claims(ar.result()));
      }
      if (ar.cause() instanceof NoSuchKeyIdException && mayRefresh) {
        return refreshForUnknownKey().transform(refreshed -> {
          if (refreshed.failed()) {
            return Future.succeededFuture(new TokenCheck.Unavailable(
                "token's key is not held and the JWKS cannot be fetched: " + lastProblem()));
          }
          if (refreshed.result() == null) {
            return Future.succeededFuture(new TokenCheck.Invalid(
                "no key for the token's kid or alg (keys fetched again less than "
                    + UNKNOWN_KID_INTERVAL.toSeconds() + "s ago)"));
          }
          return verify(refreshed.result(), token, false);
        });
      }
      return Future.succeededFuture(new TokenCheck.Invalid(reason(ar.cause())));
    });
  }

  private static TokenCheck claims(User user) {
    JsonObject claims = user.attributes().getJsonObject("accessToken");
    if (claims == null) {
      return new TokenCheck.Invalid("malformed token");
    }
    if (!(claims.getValue("exp") instanceof Number)) {
      return new TokenCheck.Invalid("no exp claim");
    }
    return new TokenCheck.Valid(claims);
  }

  /** Which check failed, from Vert.x's answer; never its text, which may quote the token. */
  static String reason(Throwable e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    if (e instanceof NoSuchKeyIdException) {
      return "no key for the token's kid or alg";
    }
    if (e instanceof SignatureException) {
      return "bad signature";
    }
    if (m.startsWith("Invalid JWT audience")) {
      return "wrong audience";
    }
    if (m.startsWith("Invalid JWT issuer")) {
      return "wrong issuer";
    }
    if (m.contains("token expired")) {
      return "expired (or nbf/iat in the future)";
    }
    if (m.contains("not signed") || m.contains("\"none\"")) {
      return "unsigned token";
    }
    return "malformed token";
  }

  /** The keys held; without any, a fetch (joined if one is under way; bounded). */
  private synchronized Future<JWTAuth> keys() {
    if (verifier != null) {
      return Future.succeededFuture(verifier);
    }
    if (fetching != null) {
      return fetching;
    }
    if (fetchedOnce && System.nanoTime() - lastFetch < RETRY_WITHOUT_KEYS.toNanos()) {
      return Future.failedFuture(lastProblem);
    }
    return fetch();
  }

  /**
   * New keys for a token whose key is not held: the fetch's keys, or null when the keys were
   * fetched too recently to ask again.
   */
  private synchronized Future<JWTAuth> refreshForUnknownKey() {
    if (fetching != null) {
      return fetching;
    }
    long now = System.nanoTime();
    if (unknownKeyFetch != null && now - unknownKeyFetch < UNKNOWN_KID_INTERVAL.toNanos()) {
      return Future.succeededFuture(null);
    }
    unknownKeyFetch = now;
    return fetch();
  }

  private synchronized String lastProblem() {
    return lastProblem;
  }

  private synchronized Future<JWTAuth> fetch() {
    if (fetching != null) {
      return fetching;
    }
    lastFetch = System.nanoTime();
    fetchedOnce = true;
    fetches++;
    long timeout = config.timeout().toMillis();
    // On the source's own event loop: a login may come from any thread (a test's, a worker's),
    // and a response read from elsewhere could end before its handlers are set.
    Promise<JWTAuth> keys = Promise.promise();
    context.runOnContext(v -> request(timeout).onComplete(keys));
    Future<JWTAuth> f = keys.future();
    fetching = f;
    f.onComplete(ar -> {
      synchronized (this) {
        fetching = null;
        if (ar.succeeded()) {
          verifier = ar.result();
          lastProblem = null;
        } else {
          lastProblem = HttpAuthenticator.where(config.jwksUrl()) + ": "
              + TokenEndpoints.describe(ar.cause(), null);
          LOG.warn("JWKS {}{}", lastProblem,
              verifier == null ? " (no keys: token logins are unavailable)"
                  : " (the keys fetched before are kept)");
        }
      }
    });
    return f;
  }

  /** One GET of the JWKS, bounded by {@code timeout} and {@link #MAX_JWKS_BYTES}. */
  private Future<JWTAuth> request(long timeout) {
    return client.request(new RequestOptions().setMethod(HttpMethod.GET)
            .setAbsoluteURI(config.jwksUrl()).setFollowRedirects(false)
            .putHeader("Accept", "application/jwk-set+json, application/json")
            .setConnectTimeout(timeout).setIdleTimeout(timeout))
        .compose(request -> request.send())
        .compose(response -> {
          if (response.statusCode() != 200) {
            response.request().reset();
            return Future.failedFuture("HTTP " + response.statusCode());
          }
          return TokenEndpoints.body(response, MAX_JWKS_BYTES);
        })
        .timeout(timeout, TimeUnit.MILLISECONDS)
        .map(body -> verifier(body.toJsonObject()));
  }

  /** A verifier for the signing keys of {@code jwks}; fails if none is usable. */
  private JWTAuth verifier(JsonObject jwks) {
    JsonArray all = jwks.getJsonArray("keys");
    if (all == null) {
      throw new IllegalArgumentException("no \"keys\" in the JWKS");
    }
    List<JsonObject> usable = new ArrayList<>();
    for (Object o : all) {
      if (o instanceof JsonObject key && SIGNING_KEY_TYPES.contains(key.getString("kty"))
          && (key.getString("use") == null || "sig".equals(key.getString("use")))) {
        try {
          // The same parse JWTAuth makes, to count what it will hold.
          new JWK(key);
          usable.add(key);
        } catch (RuntimeException e) {
          LOG.debug("JWKS key {} skipped: {}", key.getString("kid"), e.getMessage());
        }
      }
    }
    if (usable.isEmpty()) {
      throw new IllegalArgumentException("the JWKS holds no usable signing key (RSA, EC, OKP)");
    }
    JWTOptions checks = new JWTOptions()
        .setIssuer(config.issuer())
        .setAudience(config.audience())
        .setLeeway((int) config.clockSkew().toSeconds());
    return JWTAuth.create(vertx, new JWTAuthOptions().setJwks(usable).setJWTOptions(checks));
  }
}
