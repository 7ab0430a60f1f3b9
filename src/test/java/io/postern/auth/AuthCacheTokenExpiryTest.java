package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.backend.Route;
import io.postern.config.AuthConfig;
import io.postern.config.Protocol;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A token's yes is not served from the auth cache past the token's {@code exp}: the cache keeps
 * it for its ttl or until then, whichever comes first, and not at all once it has passed.
 */
class AuthCacheTokenExpiryTest {

  private static final AuthRequest REQUEST = new AuthRequest(Protocol.IMAP, "XOAUTH2",
      new Credentials("amy@example.net", Secret.of("header.payload.signature")), "192.0.2.1",
      "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1);

  /** A token source that says the token is good until {@code validUntil}, and counts. */
  private static final class TokenSource implements Authenticator {
    final AtomicInteger calls = new AtomicInteger();
    volatile Instant validUntil;

    @Override
    public Future<AuthResult> authenticate(AuthRequest request) {
      calls.incrementAndGet();
      return Future.succeededFuture(new AuthResult.Accepted(Route.to("default"),
          "amy@example.net", request.credentials().password(),
          BackendCredentials.Mechanism.XOAUTH2, null, "amy@example.net", validUntil));
    }

    @Override
    public String source() {
      return "oauth2";
    }
  }

  private static AuthCache cache(Authenticator source) {
    return new AuthCache(source, new AuthConfig.Cache(Duration.ofSeconds(60),
        Duration.ofSeconds(60), 1000), new AuthCache.Counters(() -> { }, () -> { }, n -> { }));
  }

  private static AuthResult.Accepted ask(AuthCache cache) {
    return ask(cache, REQUEST);
  }

  private static AuthResult.Accepted ask(AuthCache cache, AuthRequest request) {
    Future<AuthResult> f = cache.authenticate(request);
    assertThat(f.isComplete()).isTrue();
    return (AuthResult.Accepted) f.result();
  }

  @Test
  void aYesForATokenPastItsExpiryShouldNotBeCached() {
    TokenSource source = new TokenSource();
    source.validUntil = Instant.now().minusSeconds(1);
    AuthCache cache = cache(source);
    ask(cache);
    ask(cache);
    assertThat(source.calls.get()).isEqualTo(2);
  }

  @Test
  void aYesShouldBeCachedUntilTheTokenExpiresNotForTheWholeTtl() {
    TokenSource source = new TokenSource();
    source.validUntil = Instant.now().plusSeconds(2);
    AuthCache cache = cache(source);
    AuthResult.Accepted first = ask(cache);
    AuthResult.Accepted second = ask(cache);
    assertThat(source.calls.get()).as("cached while the token lives").isEqualTo(1);
    assertThat(second.backendPassword()).isEqualTo(first.backendPassword());
    assertThat(second.validUntil()).isEqualTo(source.validUntil);
    // Well within the 60 s ttl, the source is asked again once the token has expired.
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          ask(cache);
          return source.calls.get() > 1;
        });
    assertThat(Instant.now()).isAfterOrEqualTo(source.validUntil);
  }

  @Test
  void anExpThatIsNoDateShouldBeTakenAsNone() {
    TokenSource source = new TokenSource();
    AuthCache cache = cache(source);
    for (String exp : java.util.List.of("1e300", "123456789012345678901", "-5", "\"soon\"")) {
      AuthRequest odd = jwtRequest(exp);
      ask(cache, odd);
      ask(cache, odd);
    }
    // Each answered, and kept for the ttl like a token without exp.
    assertThat(source.calls.get()).isEqualTo(4);
  }

  /** A JWT-shaped token claiming {@code exp}; its signature is never looked at. */
  private static AuthRequest jwtRequest(long exp) {
    return jwtRequest(Long.toString(exp));
  }

  private static AuthRequest jwtRequest(String exp) {
    java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
    String token = b64.encodeToString("{\"alg\":\"ES256\"}".getBytes())
        + "." + b64.encodeToString(("{\"sub\":\"amy\",\"exp\":" + exp + "}").getBytes())
        + ".c2lnbmF0dXJl";
    return new AuthRequest(Protocol.IMAP, "OAUTHBEARER",
        new Credentials("amy@example.net", Secret.of(token)), "192.0.2.1", "TLSv1.3",
        "TLS_AES_128_GCM_SHA256", 1);
  }

  @Test
  void whereTheSourceGivesNoExpiryAJwtsOwnExpShouldBoundTheCaching() {
    // An auth_http service says yes without saying until when.
    TokenSource source = new TokenSource();
    AuthCache cache = cache(source);
    AuthRequest expired = jwtRequest(Instant.now().getEpochSecond() - 5);
    ask(cache, expired);
    ask(cache, expired);
    assertThat(source.calls.get()).as("a token past its exp is not cached").isEqualTo(2);

    Instant exp = Instant.now().plusSeconds(2);
    AuthRequest shortLived = jwtRequest(exp.getEpochSecond());
    ask(cache, shortLived);
    ask(cache, shortLived);
    assertThat(source.calls.get()).as("cached while it lives").isEqualTo(3);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> {
          ask(cache, shortLived);
          return source.calls.get() > 3;
        });
    assertThat(Instant.now().getEpochSecond()).isGreaterThanOrEqualTo(exp.getEpochSecond());
  }

  @Test
  void aYesWithoutExpiryShouldKeepTheTtl() {
    TokenSource source = new TokenSource();
    AuthCache cache = cache(source);
    ask(cache);
    ask(cache);
    assertThat(source.calls.get()).isEqualTo(1);
  }
}
