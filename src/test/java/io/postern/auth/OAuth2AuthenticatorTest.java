package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.backend.Route;
import io.postern.config.OAuth2Config;
import io.postern.config.Protocol;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.LogCapture;
import io.postern.testing.TestIssuer;
import io.postern.testing.TestIssuer.SigningKey;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The oauth2 source against a real HTTP issuer on loopback serving a JWKS of keys the test made:
 * each check a token can fail, the user it names, and the issuer being down.
 */
class OAuth2AuthenticatorTest {

  private static final String ISSUER = "https://id.example.net";
  private static final String AUDIENCE = "imap.example.net";
  /** Generous: the first request of a run loads many classes on a busy machine. */
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private static SigningKey rsa;
  private static SigningKey ec;
  private static SigningKey stranger;

  private Vertx vertx;
  private TestIssuer issuer;
  private OAuth2Authenticator auth;
  private LogCapture logs;

  @BeforeAll
  static void keys() throws Exception {
    rsa = SigningKey.rsa("rsa-1");
    ec = SigningKey.ec("ec-1");
    // Another key under rsa's kid: what a forger would use.
    stranger = new SigningKey("rsa-1", "RS256", SigningKey.rsa("x").pair());
  }

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    issuer = TestIssuer.start();
    issuer.publish(rsa, ec);
    logs = LogCapture.start();
  }

  @AfterEach
  void stop() throws Exception {
    logs.stop();
    if (auth != null) {
      await(auth.close());
    }
    await(vertx.close());
    issuer.close();
  }

  private OAuth2Config jwks() {
    return new OAuth2Config(issuer.jwksUrl(), null, ISSUER, List.of(AUDIENCE), "email",
        Duration.ofHours(1), null, TIMEOUT, Duration.ofSeconds(30), null, null,
        "default");
  }

  private OAuth2Authenticator start(OAuth2Config config) throws Exception {
    auth = OAuth2Authenticator.create(vertx, config);
    return auth;
  }

  private static JsonObject claims(String email) {
    long now = Instant.now().getEpochSecond();
    return new JsonObject().put("iss", ISSUER).put("aud", AUDIENCE).put("email", email)
        .put("sub", "u-1234").put("iat", now).put("exp", now + 300);
  }

  private String token(SigningKey key, JsonObject claims) {
    return key.sign(vertx, claims);
  }

  private static AuthRequest request(String mechanism, String user, String token) {
    return new AuthRequest(Protocol.IMAP, mechanism, new Credentials(user, Secret.of(token)),
        "192.0.2.7", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1);
  }

  private AuthResult login(String mechanism, String user, String token) throws Exception {
    return await(auth.authenticate(request(mechanism, user, token)));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A rejection that names {@code check} in the log text and never shows the token. */
  private void assertRejected(AuthResult result, String check, String token) {
    assertThat(result).isInstanceOf(AuthResult.Rejected.class);
    AuthResult.Rejected r = (AuthResult.Rejected) result;
    assertThat(r.disabledReason()).isNull();
    assertThat(r.sourceText()).contains(check).doesNotContain(token);
    assertThat(logs.lines()).noneMatch(l -> l.contains(token));
  }

  @Test
  void aValidTokenShouldLogInAsTheClaimedUserAndReplayTheToken() throws Exception {
    start(jwks());
    String token = token(rsa, claims("Alice@Example.net"));
    AuthResult result = login("XOAUTH2", "alice@example.net", token);
    assertThat(result).isInstanceOf(AuthResult.Accepted.class);
    AuthResult.Accepted a = (AuthResult.Accepted) result;
    assertThat(a.route()).isEqualTo(Route.to("default"));
    assertThat(a.backendUser()).isEqualTo("Alice@Example.net");
    assertThat(a.identity()).isEqualTo("Alice@Example.net");
    assertThat(a.backendPassword()).isEqualTo(Secret.of(token));
    assertThat(a.mechanism()).isEqualTo(BackendCredentials.Mechanism.XOAUTH2);
    assertThat(a.authorizeAs()).isNull();
    assertThat(a.validUntil()).isAfter(Instant.now().plusSeconds(200));
    assertThat(a.toString()).doesNotContain(token);
    assertThat(await(auth.ready())).isNull();
  }

  @Test
  void anEcKeyShouldVerifyToo() throws Exception {
    start(jwks());
    AuthResult result = login("OAUTHBEARER", "bob@example.net",
        token(ec, claims("bob@example.net")));
    assertThat(result).isInstanceOf(AuthResult.Accepted.class);
    assertThat(((AuthResult.Accepted) result).mechanism())
        .isEqualTo(BackendCredentials.Mechanism.OAUTHBEARER);
  }

  @Test
  void anEmptyNamedUserShouldTakeTheClaim() throws Exception {
    start(jwks());
    AuthResult result = login("OAUTHBEARER", "", token(rsa, claims("carol@example.net")));
    assertThat(result).isInstanceOf(AuthResult.Accepted.class);
    assertThat(((AuthResult.Accepted) result).backendUser()).isEqualTo("carol@example.net");
  }

  @Test
  void aUserOtherThanTheClaimsShouldBeRefused() throws Exception {
    start(jwks());
    String token = token(rsa, claims("alice@example.net"));
    assertRejected(login("XOAUTH2", "mallory@example.net", token), "not the user", token);
  }

  @Test
  void anExpiredTokenShouldBeRefused() throws Exception {
    start(jwks());
    long now = Instant.now().getEpochSecond();
    // Expired longer ago than the 30 s of skew.
    String token = token(rsa, claims("alice@example.net").put("exp", now - 120));
    assertRejected(login("XOAUTH2", "alice@example.net", token), "expired", token);
  }

  @Test
  void aTokenJustPastItsExpiryShouldPassWithinTheSkew() throws Exception {
    start(jwks());
    long now = Instant.now().getEpochSecond();
    String token = token(rsa, claims("alice@example.net").put("exp", now - 5));
    assertThat(login("XOAUTH2", "alice@example.net", token))
        .isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void aTokenWithoutExpiryShouldBeRefused() throws Exception {
    start(jwks());
    JsonObject claims = claims("alice@example.net");
    claims.remove("exp");
    String token = token(rsa, claims);
    assertRejected(login("XOAUTH2", "alice@example.net", token), "no exp claim", token);
  }

  @Test
  void aTokenForAnotherAudienceShouldBeRefused() throws Exception {
    start(jwks());
    String token = token(rsa, claims("alice@example.net").put("aud",
        new JsonArray().add("webmail.example.net").add("calendar.example.net")));
    assertRejected(login("XOAUTH2", "alice@example.net", token), "wrong audience", token);
  }

  @Test
  void aTokenFromAnotherIssuerShouldBeRefused() throws Exception {
    start(jwks());
    String token = token(rsa, claims("alice@example.net").put("iss", "https://evil.example"));
    assertRejected(login("XOAUTH2", "alice@example.net", token), "wrong issuer", token);
  }

  @Test
  void aTokenSignedByAnotherKeyShouldBeRefused() throws Exception {
    start(jwks());
    String token = token(stranger, claims("alice@example.net"));
    assertRejected(login("XOAUTH2", "alice@example.net", token), "bad signature", token);
  }

  @Test
  void garbageAndUnsignedTokensShouldBeRefused() throws Exception {
    start(jwks());
    String garbage = "not-a-jwt-at-all";
    assertRejected(login("XOAUTH2", "alice@example.net", garbage), "malformed", garbage);
    String[] parts = token(rsa, claims("alice@example.net")).split("\\.");
    String unsigned = java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString("{\"alg\":\"none\",\"typ\":\"JWT\"}".getBytes()) + "." + parts[1] + ".";
    assertThat(login("XOAUTH2", "alice@example.net", unsigned))
        .isInstanceOf(AuthResult.Rejected.class);
  }

  @Test
  void aPasswordMechanismShouldBeRefusedEvenWithAValidToken() throws Exception {
    start(jwks());
    String token = token(rsa, claims("alice@example.net"));
    for (String mechanism : List.of("PLAIN", "LOGIN", "USER")) {
      assertRejected(login(mechanism, "alice@example.net", token), "tokens only", token);
    }
  }

  @Test
  void theJwksBeingDownWithNoKeysShouldMakeLoginsUnavailable() throws Exception {
    issuer.jwksStatus(503);
    start(jwks());
    String token = token(rsa, claims("alice@example.net"));
    AuthResult result = login("XOAUTH2", "alice@example.net", token);
    assertThat(result).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) result).why()).contains("HTTP 503")
        .doesNotContain(token);
    assertThat(auth.ready().toCompletionStage().toCompletableFuture())
        .failsWithin(Duration.ofSeconds(10));
  }

  @Test
  void keysAlreadyHeldShouldOutliveTheJwksGoingDown() throws Exception {
    start(jwks());
    assertThat(login("XOAUTH2", "", token(rsa, claims("alice@example.net"))))
        .isInstanceOf(AuthResult.Accepted.class);
    issuer.jwksStatus(503);
    // A token with an unknown kid makes the keys be fetched, which fails: the old keys stay.
    AuthResult unknown = login("XOAUTH2", "", token(SigningKey.rsa("rsa-2"),
        claims("alice@example.net")));
    assertThat(unknown).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(login("XOAUTH2", "", token(rsa, claims("alice@example.net"))))
        .isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void anUnknownKidShouldFetchTheKeysOnceAndFindARotatedKey() throws Exception {
    start(jwks());
    assertThat(login("XOAUTH2", "", token(rsa, claims("alice@example.net"))))
        .isInstanceOf(AuthResult.Accepted.class);
    assertThat(issuer.jwksRequests()).isEqualTo(1);
    // The issuer rotates to a new key: the first token under it makes Postern fetch again.
    SigningKey rotated = SigningKey.rsa("rsa-2");
    issuer.publish(rsa, rotated);
    assertThat(login("XOAUTH2", "", token(rotated, claims("alice@example.net"))))
        .isInstanceOf(AuthResult.Accepted.class);
    assertThat(issuer.jwksRequests()).isEqualTo(2);
    // Made-up kids right after do not make it fetch again.
    for (int i = 0; i < 5; i++) {
      String forged = token(SigningKey.ec("made-up-" + i), claims("alice@example.net"));
      assertRejected(login("XOAUTH2", "", forged), "no key for the token's kid", forged);
    }
    assertThat(issuer.jwksRequests()).isEqualTo(2);
  }

  @Test
  void anHmacKeyInTheJwksShouldNotBeTrusted() throws Exception {
    // A symmetric key in a public JWKS would let anyone sign; an encryption key signs nothing.
    String secret = java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString("0123456789abcdef0123456789abcdef".getBytes());
    issuer.publishJwks(new JsonObject().put("kty", "oct").put("kid", "hmac").put("alg", "HS256")
        .put("k", secret), rsa.jwk().put("use", "enc"));
    start(jwks());
    AuthResult result = login("XOAUTH2", "", token(rsa, claims("alice@example.net")));
    assertThat(result).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) result).why()).contains("no usable signing key");
  }

  @Test
  void theBackendAndUserClaimShouldFollowTheConfiguration() throws Exception {
    start(new OAuth2Config(issuer.jwksUrl(), null, ISSUER, List.of("other", AUDIENCE), "sub",
        Duration.ofHours(1), null, TIMEOUT, Duration.ofSeconds(30), null, null,
        "tokens"));
    AuthResult result = login("XOAUTH2", "U-1234", token(rsa, claims("alice@example.net")));
    assertThat(result).isInstanceOf(AuthResult.Accepted.class);
    AuthResult.Accepted a = (AuthResult.Accepted) result;
    assertThat(a.route()).isEqualTo(Route.to("tokens"));
    assertThat(a.backendUser()).isEqualTo("u-1234");
  }

  @Test
  void aClaimThatIsNoLoginNameShouldBeRefused() throws Exception {
    start(jwks());
    String token = token(rsa, claims("alice@example.net\r\na LOGOUT"));
    assertRejected(login("XOAUTH2", "", token), "not a usable login name", token);
  }

  @Test
  void anHttpsJwksShouldBeVerifiedAgainstTheConfiguredCa() throws Exception {
    io.postern.testing.TestTls tls = io.postern.testing.TestTls.shared("localhost");
    try (TestIssuer https = TestIssuer.startHttps(tls)) {
      https.publish(rsa);
      String token = token(rsa, claims("alice@example.net"));
      start(new OAuth2Config(https.jwksUrl(), null, ISSUER, List.of(AUDIENCE), "email",
          Duration.ofHours(1), tls.certPath(), TIMEOUT, Duration.ofSeconds(30), null, null,
          "default"));
      assertThat(login("XOAUTH2", "", token)).isInstanceOf(AuthResult.Accepted.class);
      await(auth.close());
      // Without the CA, the system's CAs do not know this certificate: no keys.
      start(new OAuth2Config(https.jwksUrl(), null, ISSUER, List.of(AUDIENCE), "email",
          Duration.ofHours(1), null, TIMEOUT, Duration.ofSeconds(30), null, null, "default"));
      assertThat(login("XOAUTH2", "", token)).isInstanceOf(AuthResult.Unavailable.class);
    }
  }
}
