package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.OAuth2Config;
import io.postern.config.Protocol;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.LogCapture;
import io.postern.testing.TestIssuer;
import io.postern.testing.TestIssuer.Reply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The oauth2 source asking a real RFC 7662 endpoint on loopback: active and inactive tokens, an
 * endpoint that fails or does not answer, and how Postern authenticates itself there.
 */
class TokenIntrospectionTest {

  private static final String TOKEN = "opaque-token-7f3a9c";

  @TempDir
  Path dir;

  private Vertx vertx;
  private TestIssuer issuer;
  private OAuth2Authenticator auth;
  private LogCapture logs;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    issuer = TestIssuer.start();
    logs = LogCapture.start();
    // Generous: the first request of a run loads many classes on a busy machine.
    auth = authenticator(Duration.ofSeconds(5));
  }

  private OAuth2Authenticator authenticator(Duration timeout) throws Exception {
    Path secret = dir.resolve("client.secret");
    Files.writeString(secret, "s3cret\n");
    return OAuth2Authenticator.create(vertx, new OAuth2Config(null, issuer.introspectionUrl(),
        null, List.of(), "username", Duration.ofHours(1), null, timeout,
        Duration.ofSeconds(30), "postern", secret, "default"));
  }

  @AfterEach
  void stop() throws Exception {
    logs.stop();
    await(auth.close());
    await(vertx.close());
    issuer.close();
  }

  private AuthResult login(String mechanism, String user, String token) throws Exception {
    return await(auth.authenticate(new AuthRequest(Protocol.POP3, mechanism,
        new Credentials(user, Secret.of(token)), "192.0.2.7", "TLSv1.3",
        "TLS_AES_128_GCM_SHA256", 1)));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Reply active(String user) {
    return Reply.json(200, new JsonObject().put("active", true).put("username", user)
        .put("exp", Instant.now().getEpochSecond() + 600));
  }

  @Test
  void anActiveTokenShouldLogInAsItsUsername() throws Exception {
    issuer.introspect(t -> TOKEN.equals(t) ? active("dave@example.net")
        : Reply.json(200, new JsonObject().put("active", false)));
    AuthResult result = login("OAUTHBEARER", "", TOKEN);
    assertThat(result).isInstanceOf(AuthResult.Accepted.class);
    AuthResult.Accepted a = (AuthResult.Accepted) result;
    assertThat(a.backendUser()).isEqualTo("dave@example.net");
    assertThat(a.backendPassword()).isEqualTo(Secret.of(TOKEN));
    assertThat(a.mechanism()).isEqualTo(BackendCredentials.Mechanism.OAUTHBEARER);
    assertThat(a.validUntil()).isAfter(Instant.now());
    // RFC 7662 §2.1: the token in the form, the client in HTTP Basic auth.
    TestIssuer.Introspection asked = issuer.introspections().get(0);
    assertThat(asked.token()).isEqualTo(TOKEN);
    assertThat(asked.authorization()).isEqualTo("Basic " + Base64.getEncoder()
        .encodeToString("postern:s3cret".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void anInactiveTokenShouldBeRefused() throws Exception {
    issuer.introspect(t -> Reply.json(200, new JsonObject().put("active", false)));
    AuthResult result = login("XOAUTH2", "dave@example.net", TOKEN);
    assertThat(result).isInstanceOf(AuthResult.Rejected.class);
    assertThat(((AuthResult.Rejected) result).sourceText()).contains("inactive");
  }

  @Test
  void anActiveTokenOfAnotherUserShouldBeRefused() throws Exception {
    issuer.introspect(t -> active("dave@example.net"));
    AuthResult result = login("XOAUTH2", "erin@example.net", TOKEN);
    assertThat(result).isInstanceOf(AuthResult.Rejected.class);
    assertThat(((AuthResult.Rejected) result).sourceText()).contains("not the user");
  }

  @Test
  void anActiveTokenPastItsExpiryShouldBeRefused() throws Exception {
    issuer.introspect(t -> Reply.json(200, new JsonObject().put("active", true)
        .put("username", "dave@example.net").put("exp", Instant.now().getEpochSecond() - 600)));
    AuthResult result = login("XOAUTH2", "", TOKEN);
    assertThat(result).isInstanceOf(AuthResult.Rejected.class);
    assertThat(((AuthResult.Rejected) result).sourceText()).contains("expired");
  }

  @Test
  void anEndpointFailingShouldMakeLoginsUnavailableWithoutShowingTheToken() throws Exception {
    // An error page that echoes the token back must not bring it into the log.
    issuer.introspect(t -> new Reply(503, "{\"error\":\"down\",\"error_description\":\"" + t
        + "\"}"));
    AuthResult result = login("XOAUTH2", "", TOKEN);
    assertThat(result).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) result).why()).contains("introspection")
        .doesNotContain(TOKEN);
    assertThat(logs.lines()).noneMatch(l -> l.contains(TOKEN));
  }

  @Test
  void anEndpointThatDoesNotAnswerShouldMakeLoginsUnavailableWithinTheTimeout()
      throws Exception {
    // Warm: a short timeout then measures the endpoint, not the class loading.
    issuer.introspect(t -> active("dave@example.net"));
    assertThat(login("XOAUTH2", "", TOKEN)).isInstanceOf(AuthResult.Accepted.class);
    await(auth.close());
    auth = authenticator(Duration.ofMillis(700));
    issuer.introspect(t -> Reply.silence());
    long started = System.nanoTime();
    AuthResult result = login("XOAUTH2", "", TOKEN);
    assertThat(result).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) result).why()).contains("Timeout");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(4));
    assertThat(auth.ready().toCompletionStage().toCompletableFuture())
        .failsWithin(Duration.ofSeconds(10));
  }

  @Test
  void questionsBeyondTheLimitShouldBeAnsweredUnavailableAtOnce() throws Exception {
    issuer.introspect(t -> Reply.silence());
    List<Future<AuthResult>> waiting = new java.util.ArrayList<>();
    for (int i = 0; i < TokenIntrospection.MAX_IN_FLIGHT; i++) {
      waiting.add(auth.authenticate(new AuthRequest(Protocol.IMAP, "XOAUTH2",
          new Credentials("", Secret.of(TOKEN + i)), "192.0.2.7", "TLSv1.3",
          "TLS_AES_128_GCM_SHA256", 1)));
    }
    AuthResult beyond = login("XOAUTH2", "", TOKEN);
    assertThat(beyond).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) beyond).why())
        .contains(TokenIntrospection.MAX_IN_FLIGHT + " requests already waiting")
        .doesNotContain(TOKEN);
    assertThat(waiting).noneMatch(Future::isComplete);
  }

  @Test
  void anAnswerWithoutActiveShouldNotLogAnyoneIn() throws Exception {
    issuer.introspect(t -> Reply.json(200, new JsonObject().put("username", "dave@example.net")));
    assertThat(login("XOAUTH2", "", TOKEN)).isInstanceOf(AuthResult.Unavailable.class);
  }

  @Test
  void readinessShouldFollowTheEndpoint() throws Exception {
    assertThat(await(auth.ready())).isNull();
    assertThat(issuer.introspections()).hasSize(1);
    // An answer a moment ago is enough: the endpoint is not asked again.
    assertThat(await(auth.ready())).isNull();
    assertThat(issuer.introspections()).hasSize(1);
  }

  @Test
  void aPasswordLoginShouldNotReachTheEndpoint() throws Exception {
    issuer.introspect(t -> active("dave@example.net"));
    assertThat(login("PLAIN", "dave@example.net", TOKEN)).isInstanceOf(AuthResult.Rejected.class);
    assertThat(issuer.introspections()).isEmpty();
  }
}
