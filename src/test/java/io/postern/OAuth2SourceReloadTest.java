package io.postern;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.config.AuthConfig;
import io.postern.config.ConfigError;
import io.postern.config.ConfigException;
import io.postern.config.OAuth2Config;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestIssuer;
import io.postern.testing.TestIssuer.SigningKey;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code auth.source: oauth2} loaded by a running Postern, as a reload (SIGHUP, the admin API)
 * loads it: the new source answers logins through the auth cache, and files or names it cannot
 * use are errors naming their keys, leaving the running source in place.
 */
class OAuth2SourceReloadTest {

  @TempDir
  Path dir;

  private PosternFixture postern;
  private TestIssuer issuer;
  private SigningKey key;

  @BeforeEach
  void start() throws Exception {
    issuer = TestIssuer.start();
    key = SigningKey.ec("ec-1");
    issuer.publish(key);
    postern = PosternFixture.builder(dir).user("alice", "pw").backend(1143, 1110)
        .plaintextListeners().start();
  }

  @AfterEach
  void stop() throws Exception {
    postern.close();
    issuer.close();
  }

  private PosternConfig withOAuth2(OAuth2Config oauth2) {
    PosternConfig c = postern.server().config();
    AuthConfig a = c.auth();
    AuthConfig auth = new AuthConfig(AuthConfig.Source.OAUTH2, a.passwdFile(), a.http(),
        a.cleartext(), a.failureDelay(), a.maxAttempts(), a.cache(), a.throttle(), a.hashing(),
        a.ldap(), oauth2, a.master());
    return new PosternConfig(c.listeners(), c.tls(), auth, c.backends(), c.limits(), c.admin(),
        c.logging());
  }

  private OAuth2Config jwks(String backend) {
    return new OAuth2Config(issuer.jwksUrl(), null, "https://id.example.net",
        List.of("imap.example.net"), "email", Duration.ofHours(1), null, Duration.ofSeconds(5),
        Duration.ofSeconds(30), null, null, backend);
  }

  private List<String> loadErrors(PosternConfig config) {
    try {
      PosternServer.load(postern.vertx(), config, null);
    } catch (ConfigException e) {
      return e.errors().stream().map(ConfigError::toString).toList();
    }
    throw new AssertionError("configuration was accepted");
  }

  @Test
  void aReloadToOAuth2ShouldAnswerTokenLogins() throws Exception {
    PosternServer.Resources next = PosternServer.load(postern.vertx(), withOAuth2(jwks("default")),
        null);
    List<String> changes = postern.server().reload(next).await();
    assertThat(changes).contains("auth source oauth2 loaded");
    assertThat(postern.server().shared().authenticator().source()).isEqualTo("oauth2");
    postern.server().shared().authenticator().ready().await();
    long now = Instant.now().getEpochSecond();
    String token = key.sign(postern.vertx(), new JsonObject().put("iss", "https://id.example.net")
        .put("aud", "imap.example.net").put("email", "alice@example.net").put("exp", now + 60));
    AuthResult result = postern.server().shared().authenticator().authenticate(
        new AuthRequest(Protocol.IMAP, "XOAUTH2", new Credentials("alice@example.net",
            Secret.of(token)), "192.0.2.7", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1)).await();
    assertThat(result).isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void whatTheSourceCannotUseShouldBeErrorsNamingTheirKeys() throws Exception {
    assertThat(loadErrors(withOAuth2(jwks("nowhere"))))
        .containsExactly("auth.oauth2.backend: names no configured backend ('nowhere')");
    assertThat(loadErrors(withOAuth2(new OAuth2Config(issuer.jwksUrl(), null, "i", List.of("a"),
        "email", Duration.ofHours(1), dir.resolve("missing-ca.pem"), Duration.ofSeconds(5),
        Duration.ZERO, null, null, "default"))))
        .singleElement().asString().startsWith("auth.oauth2.ca: ");
    assertThat(loadErrors(withOAuth2(new OAuth2Config(null, issuer.introspectionUrl(), null,
        List.of(), "username", Duration.ofHours(1), null, Duration.ofSeconds(5), Duration.ZERO,
        "postern", dir.resolve("missing.secret"), "default"))))
        .singleElement().asString().startsWith("auth.oauth2.client-secret-file: cannot read");
    assertThat(postern.server().shared().authenticator().source()).isEqualTo("passwd-file");
  }
}
