package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.AuthConfig;
import io.postern.config.Protocol;
import io.postern.credentials.BackendCredentials.Mechanism;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Bearer tokens and the {@code http} source: the request names the mechanism, the answer
 * replays or rewrites, and the auth cache never takes a token for a password.
 */
class AuthHttpTokenTest {

  private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";

  private static AuthRequest request(String mechanism, String user, String secret) {
    return new AuthRequest(Protocol.IMAP, mechanism, new Credentials(user, Secret.of(secret)),
        "192.0.2.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1);
  }

  private static MultiMap headers(String... kv) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < kv.length; i += 2) {
      m.add(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static AuthHttpAnswer parse(Mechanism secret, String user, String... kv) {
    return AuthHttpAnswer.parse(headers(kv), new Credentials(user, Secret.of(TOKEN)), secret,
        Set.of("default"));
  }

  private static AuthResult.Accepted accepted(AuthHttpAnswer answer) {
    assertThat(answer).isInstanceOf(AuthHttpAnswer.Ok.class);
    return ((AuthHttpAnswer.Ok) answer).accepted();
  }

  @Test
  void requestShouldNameTheMechanismAndCarryTheTokenAsThePassword() {
    Map<String, String> x = AuthHttpRequest.headers(request("XOAUTH2", "alice", TOKEN), Map.of());
    assertThat(x).containsEntry("Auth-Method", "xoauth2").containsEntry("Auth-User", "alice")
        .containsEntry("Auth-Pass", TOKEN);
    Map<String, String> o = AuthHttpRequest.headers(request("oauthbearer", "", TOKEN), Map.of());
    assertThat(o).containsEntry("Auth-Method", "oauthbearer").containsEntry("Auth-User", "")
        .containsEntry("Auth-Pass", TOKEN);
    assertThat(AuthHttpRequest.headers(request("LOGIN", "alice", "pw"), Map.of()))
        .containsEntry("Auth-Method", "plain");
  }

  @Test
  void anOkWithoutAuthPassShouldReplayTheTokenWithTheClientsMechanism() {
    AuthResult.Accepted a = accepted(parse(Mechanism.OAUTHBEARER, "", "Auth-Status", "OK",
        "Auth-Server", "192.0.2.7", "Auth-Port", "143", "Auth-User", "alice"));
    assertThat(a.mechanism()).isEqualTo(Mechanism.OAUTHBEARER);
    assertThat(a.backendUser()).isEqualTo("alice");
    assertThat(a.backendPassword()).isEqualTo(Secret.of(TOKEN));
    assertThat(a.identity()).isEqualTo("alice");
    // Without Auth-User: the client's name, and no identity of the source's.
    AuthResult.Accepted same = accepted(parse(Mechanism.XOAUTH2, "bob", "Auth-Status", "OK"));
    assertThat(same.mechanism()).isEqualTo(Mechanism.XOAUTH2);
    assertThat(same.backendUser()).isEqualTo("bob");
    assertThat(same.identity()).isNull();
    assertThat(same.toString()).doesNotContain(TOKEN);
  }

  @Test
  void anOkWithAuthPassShouldLogInWithThatPassword() {
    AuthResult.Accepted a = accepted(parse(Mechanism.XOAUTH2, "alice@example.org",
        "Auth-Status", "OK", "Auth-User", "alice", "Auth-Pass", "backend-pw"));
    assertThat(a.mechanism()).isEqualTo(Mechanism.PASSWORD);
    assertThat(a.backendUser()).isEqualTo("alice");
    assertThat(a.backendPassword()).isEqualTo(Secret.of("backend-pw"));
    assertThat(a.identity()).isEqualTo("alice");
    // A password, but no one to log in as: not an answer.
    assertThat(parse(Mechanism.OAUTHBEARER, "", "Auth-Status", "OK", "Auth-Pass", "pw"))
        .isInstanceOf(AuthHttpAnswer.Malformed.class);
  }

  @Test
  void theCacheShouldNeverAnswerATokenWithAPasswordsAnswer() {
    List<AuthRequest> asked = new CopyOnWriteArrayList<>();
    Authenticator source = new Authenticator() {
      @Override
      public Future<AuthResult> authenticate(AuthRequest request) {
        asked.add(request);
        return Future.succeededFuture(request.bearerToken()
            ? AuthResult.Rejected.badCredentials()
            : new AuthResult.Accepted(io.postern.backend.Route.to("default"), "alice",
                request.credentials().password()));
      }

      @Override
      public String source() {
        return "test";
      }

      @Override
      public boolean verifiesTokens() {
        return true;
      }
    };
    AuthCache cache = new AuthCache(source, new AuthConfig.Cache(Duration.ofSeconds(60),
        Duration.ofSeconds(60), 100), new AuthCache.Counters(() -> { }, () -> { }, n -> { }));
    assertThat(cache.verifiesTokens()).isTrue();
    // The same bytes as a password, then as each mechanism's token: three questions.
    assertThat(cache.authenticate(request("LOGIN", "alice", TOKEN)).result())
        .isInstanceOf(AuthResult.Accepted.class);
    assertThat(cache.authenticate(request("XOAUTH2", "alice", TOKEN)).result())
        .isInstanceOf(AuthResult.Rejected.class);
    assertThat(cache.authenticate(request("OAUTHBEARER", "alice", TOKEN)).result())
        .isInstanceOf(AuthResult.Rejected.class);
    assertThat(asked).hasSize(3);
    // Asked again, each is answered from the cache.
    assertThat(cache.authenticate(request("PLAIN", "alice", TOKEN)).result())
        .isInstanceOf(AuthResult.Accepted.class);
    assertThat(cache.authenticate(request("xoauth2", "alice", TOKEN)).result())
        .isInstanceOf(AuthResult.Rejected.class);
    assertThat(asked).hasSize(3);
  }
}
