package io.postern.auth;

import io.postern.backend.Route;
import io.postern.config.OAuth2Config;
import io.postern.credentials.BackendCredentials;
import io.postern.tls.CertificatePair;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Locale;
import java.util.function.Function;

/**
 * The {@code oauth2} source: bearer tokens (XOAUTH2, OAUTHBEARER) checked against the issuer's
 * JWKS or by its introspection endpoint. The user is the one the configured claim names; a user
 * the client named as well ({@code user=}, {@code a=}) must be that one, without regard to case.
 * The backend login replays the token with the client's mechanism, as that user.
 *
 * <p>Passwords are never checked here, even one shaped like a JWT sent with PLAIN or LOGIN:
 * clients that hold a token say so with XOAUTH2 or OAUTHBEARER, and a token travelling as a
 * password would be replayed as one to a backend that expects a token mechanism.
 */
public final class OAuth2Authenticator implements Authenticator {

  /** Longest user name taken from a claim; a mail login name is far shorter. */
  static final int MAX_USER_LENGTH = 255;
  /** Longest token looked at; real ones are a few KiB. */
  static final int MAX_TOKEN_BYTES = 16 * 1024;
  /** Connections to the issuer's endpoint. */
  static final int POOL_SIZE = 16;

  private final OAuth2Config config;
  private final Function<String, Future<TokenCheck>> verifier;
  private final java.util.function.Supplier<Future<Void>> ready;
  private final AutoCloseable resources;
  private final HttpClient client;

  private OAuth2Authenticator(OAuth2Config config, Function<String, Future<TokenCheck>> verifier,
      java.util.function.Supplier<Future<Void>> ready, AutoCloseable resources,
      HttpClient client) {
    this.config = config;
    this.verifier = verifier;
    this.ready = ready;
    this.resources = resources;
    this.client = client;
  }

  /**
   * Reads the CA and client-secret files (blocking: start-up and reloads only) and starts
   * fetching the JWKS. {@link ConfigProblem} names the key at fault.
   */
  public static OAuth2Authenticator create(Vertx vertx, OAuth2Config config)
      throws ConfigProblem {
    HttpClientOptions options;
    try {
      options = TokenEndpoints.options(config);
    } catch (CertificatePair.CertificateProblem e) {
      throw new ConfigProblem("ca", e.getMessage());
    }
    if (config.jwks()) {
      HttpClient client = vertx.createHttpClient(options,
          new PoolOptions().setHttp1MaxSize(POOL_SIZE));
      JwksVerifier jwks = new JwksVerifier(vertx, config, client);
      return new OAuth2Authenticator(config, jwks::check, jwks::ready, jwks, client);
    }
    String secret;
    try {
      secret = Files.readString(config.clientSecretFile(), StandardCharsets.UTF_8).strip();
    } catch (IOException | RuntimeException e) {
      throw new ConfigProblem("client-secret-file", "cannot read "
          + config.clientSecretFile());
    }
    if (secret.isEmpty()) {
      throw new ConfigProblem("client-secret-file", config.clientSecretFile() + " is empty");
    }
    TokenIntrospection introspection = new TokenIntrospection(vertx, config, options, secret);
    return new OAuth2Authenticator(config, introspection::check, introspection::ready,
        introspection, null);
  }

  /** A configuration problem, with the key under {@code auth.oauth2} it concerns. */
  public static final class ConfigProblem extends Exception {
    private final String key;

    ConfigProblem(String key, String message) {
      super(message);
      this.key = key;
    }

    public String key() {
      return "auth.oauth2." + key;
    }
  }

  @Override
  public String source() {
    return "oauth2";
  }

  /** Tokens only: password mechanisms are neither offered nor taken. */
  @Override
  public boolean verifiesTokens() {
    return true;
  }

  @Override
  public boolean checksPasswords() {
    return false;
  }

  @Override
  public Future<Void> ready() {
    return ready.get();
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    BackendCredentials.Mechanism mechanism = mechanism(request.mechanism());
    if (mechanism == null) {
      return Future.succeededFuture(new AuthResult.Rejected(null, java.time.Duration.ZERO,
          "the oauth2 source checks tokens only (XOAUTH2, OAUTHBEARER), not "
              + request.mechanism()));
    }
    if (request.credentials().password() == null || request.credentials().password().isEmpty()
        || request.credentials().password().length() > MAX_TOKEN_BYTES) {
      return Future.succeededFuture(rejected("no token, or one over " + MAX_TOKEN_BYTES
          + " bytes"));
    }
    String token = request.credentials().password().text();
    return verifier.apply(token).map(check -> answer(check, request, mechanism));
  }

  private AuthResult answer(TokenCheck check, AuthRequest request,
      BackendCredentials.Mechanism mechanism) {
    if (check instanceof TokenCheck.Unavailable u) {
      return new AuthResult.Unavailable(u.why());
    }
    if (check instanceof TokenCheck.Invalid i) {
      return rejected(i.why());
    }
    JsonObject claims = ((TokenCheck.Valid) check).claims();
    Object value = claims.getValue(config.userClaim());
    if (!(value instanceof String user) || user.isBlank()) {
      return rejected("no " + config.userClaim() + " claim");
    }
    if (user.length() > MAX_USER_LENGTH || user.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
      return rejected("the " + config.userClaim() + " claim is not a usable login name");
    }
    String named = request.credentials().user();
    if (named != null && !named.isEmpty()
        && !named.toLowerCase(Locale.ROOT).equals(user.toLowerCase(Locale.ROOT))) {
      return rejected("the token's " + config.userClaim() + " is " + user + ", not the user "
          + named + " the client named");
    }
    Instant validUntil = claims.getValue("exp") instanceof Number exp
        ? Instant.ofEpochSecond(exp.longValue()) : null;
    return new AuthResult.Accepted(Route.to(config.backend()), user,
        request.credentials().password(), mechanism, null, user, validUntil);
  }

  private static AuthResult.Rejected rejected(String why) {
    return new AuthResult.Rejected(null, java.time.Duration.ZERO, why);
  }

  /** The backend mechanism that replays a token sent with {@code name}; null for passwords. */
  static BackendCredentials.Mechanism mechanism(String name) {
    if (name == null) {
      return null;
    }
    return switch (name.toUpperCase(Locale.ROOT)) {
      case "XOAUTH2" -> BackendCredentials.Mechanism.XOAUTH2;
      case "OAUTHBEARER" -> BackendCredentials.Mechanism.OAUTHBEARER;
      default -> null;
    };
  }

  @Override
  public Future<Void> close() {
    try {
      resources.close();
    } catch (Exception e) {
      // Timers and clients only: nothing to report.
    }
    return client == null ? Future.succeededFuture() : client.close();
  }
}
