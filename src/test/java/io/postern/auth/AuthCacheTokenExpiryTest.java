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
    Future<AuthResult> f = cache.authenticate(REQUEST);
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
  void aYesWithoutExpiryShouldKeepTheTtl() {
    TokenSource source = new TokenSource();
    AuthCache cache = cache(source);
    ask(cache);
    ask(cache);
    assertThat(source.calls.get()).isEqualTo(1);
  }
}
