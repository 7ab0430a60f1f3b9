package io.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code auth.oauth2}: how bearer tokens are verified (auth.source: oauth2). Exactly one of
 * {@code jwksUrl} (JWTs checked locally against the issuer's keys) and {@code introspectionUrl}
 * (RFC 7662: the issuer is asked about each token) is set. {@code issuer} and {@code audience}
 * must match the token's {@code iss} and one of its {@code aud}s (required with a JWKS, checked
 * when set with introspection); {@code userClaim} names the user; {@code clockSkew} is allowed on
 * {@code exp}, {@code nbf} and {@code iat}. The keys are fetched again every {@code jwksRefresh};
 * {@code ca} (PEM) verifies https URLs, null means the system's CAs; every request is bounded by
 * {@code timeout}. Logins are routed to {@code backend}. {@code scope} and
 * {@code openidConfiguration}, when set, go into OAUTHBEARER's error (RFC 7628 §3.2.2) so a client
 * can fetch a token that will do; null leaves them out.
 */
public record OAuth2Config(
    String jwksUrl,
    String introspectionUrl,
    String issuer,
    List<String> audience,
    String userClaim,
    Duration jwksRefresh,
    Path ca,
    Duration timeout,
    Duration clockSkew,
    String clientId,
    Path clientSecretFile,
    String backend,
    String scope,
    String openidConfiguration) {

  /** Dovecot's oauth2 passdb names the user by {@code email} too. */
  public static final String DEFAULT_JWT_USER_CLAIM = "email";
  /** RFC 7662 §2.2's member for the resource owner. */
  public static final String DEFAULT_INTROSPECTION_USER_CLAIM = "username";
  public static final Duration DEFAULT_JWKS_REFRESH = Duration.ofHours(1);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(60);

  public OAuth2Config {
    audience = audience == null ? List.of() : List.copyOf(audience);
  }

  /** Without the RFC 7628 error details. */
  public OAuth2Config(String jwksUrl, String introspectionUrl, String issuer,
      List<String> audience, String userClaim, Duration jwksRefresh, Path ca, Duration timeout,
      Duration clockSkew, String clientId, Path clientSecretFile, String backend) {
    this(jwksUrl, introspectionUrl, issuer, audience, userClaim, jwksRefresh, ca, timeout,
        clockSkew, clientId, clientSecretFile, backend, null, null);
  }

  /** Whether tokens are checked against a JWKS (else by introspection). */
  public boolean jwks() {
    return jwksUrl != null;
  }
}
