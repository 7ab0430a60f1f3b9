package io.postern.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code auth.oauth2} as an operator writes it: defaults, and every mistake named by its key. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OAuth2ConfigTest {

  private Vertx vertx;

  @TempDir
  Path dir;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stop() {
    vertx.close().await();
  }

  private PosternConfig load(String yaml) throws Exception {
    return ConfigText.load(vertx, dir, yaml, Map.of());
  }

  private List<String> errors(String yaml) {
    return ConfigText.errors(vertx, dir, yaml);
  }

  @Test
  void aJwksSourceShouldTakeItsKeysAndDefaults() throws Exception {
    OAuth2Config o = load("""
        auth:
          source: oauth2
          oauth2:
            jwks-url: https://id.example.net/jwks
            issuer: https://id.example.net
            audience: imap.example.net
        """).auth().oauth2();
    assertThat(o.jwks()).isTrue();
    assertThat(o.audience()).containsExactly("imap.example.net");
    assertThat(o.userClaim()).isEqualTo("email");
    assertThat(o.jwksRefresh()).isEqualTo(Duration.ofHours(1));
    assertThat(o.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(o.clockSkew()).isEqualTo(Duration.ofSeconds(60));
    assertThat(o.backend()).isEqualTo("default");
    assertThat(o.ca()).isNull();
    assertThat(o.scope()).isNull();
    assertThat(o.openidConfiguration()).isNull();
  }

  @Test
  void theHintsForOauthbearersErrorShouldBeTakenAndChecked() throws Exception {
    String source = "auth: { source: oauth2, oauth2: { jwks-url: \"https://id.example.net/j\","
        + " issuer: a, audience: b, ";
    OAuth2Config o = load(source + "scope: \"openid email https://mail.example.net/imap\","
        + " openid-configuration: \"https://id.example.net/.well-known/openid-configuration\""
        + " } }\n").auth().oauth2();
    assertThat(o.scope()).isEqualTo("openid email https://mail.example.net/imap");
    assertThat(o.openidConfiguration())
        .isEqualTo("https://id.example.net/.well-known/openid-configuration");
    assertThat(errors(source + "scope: \"openid  \\\"mail\\\"\","
        + " openid-configuration: \"http://id.example.net/x\" } }\n"))
        .containsExactly("auth.oauth2.scope: must be OAuth 2.0 scope tokens separated by single"
                + " spaces (RFC 6749 §3.3: printable ASCII without '\"' or '\\')",
            "auth.oauth2.openid-configuration: 'http://id.example.net/x' must be an https://"
                + " URL");
  }

  @Test
  void anIntrospectionSourceShouldTakeItsKeys() throws Exception {
    OAuth2Config o = load("""
        auth:
          source: oauth2
          oauth2:
            introspection-url: https://id.example.net/introspect
            client-id: postern
            client-secret-file: conf/oauth2.secret
            audience: [imap, pop]
            user-claim: sub
            clock-skew: 0s
            timeout: 2s
            backend: mail
            ca: conf/id-ca.pem
        """).auth().oauth2();
    assertThat(o.jwks()).isFalse();
    assertThat(o.introspectionUrl()).isEqualTo("https://id.example.net/introspect");
    assertThat(o.clientSecretFile()).isEqualTo(Path.of("conf/oauth2.secret"));
    assertThat(o.audience()).containsExactly("imap", "pop");
    assertThat(o.userClaim()).isEqualTo("sub");
    assertThat(o.clockSkew()).isZero();
    assertThat(o.backend()).isEqualTo("mail");
    assertThat(o.ca()).isEqualTo(Path.of("conf/id-ca.pem"));
  }

  @Test
  void introspectionShouldNameTheUserByUsernameByDefault() throws Exception {
    assertThat(load("""
        auth:
          source: oauth2
          oauth2: { introspection-url: "http://127.0.0.1:8080/i", client-id: p,
                    client-secret-file: s }
        """).auth().oauth2().userClaim()).isEqualTo("username");
  }

  @Test
  void theSettingsAreIgnoredWhileAnotherSourceIsUsed() throws Exception {
    assertThat(load("auth: { source: passwd-file, oauth2: { issuer: x } }\n").auth().oauth2())
        .isNull();
    assertThat(errors("auth: { oauth2: { isuser: x } }\n"))
        .containsExactly("auth.oauth2.isuser: unknown key");
  }

  @Test
  void mistakesShouldBeNamedByTheirKeys() throws Exception {
    assertThat(errors("auth: { source: oauth2 }\n"))
        .containsExactly("auth.oauth2.jwks-url: is required (or introspection-url)");
    assertThat(errors("auth: { source: oauth2, oauth2: { jwks-url: \"https://a/j\","
        + " introspection-url: \"https://a/i\", issuer: a, audience: b, client-id: c,"
        + " client-secret-file: d } }\n"))
        .containsExactly("auth.oauth2.introspection-url: must not be set with jwks-url;"
            + " pick one");
    assertThat(errors("auth: { source: oauth2, oauth2: { jwks-url: \"ftp://a/j\" } }\n"))
        .containsExactly(
            "auth.oauth2.jwks-url: 'ftp://a/j' must be an http:// or https:// URL with a host",
            "auth.oauth2.issuer: is required with jwks-url (the iss every token must carry)",
            "auth.oauth2.audience: is required with jwks-url (one or more aud values; a token"
                + " must name one of them)");
    // Plain http only to this machine: on a network it would let anyone on the path sign
    // tokens (a JWKS of their own) or read the client secret and the users' tokens.
    assertThat(errors("auth: { source: oauth2, oauth2: { jwks-url: \"http://id.example.net/j\","
        + " issuer: a, audience: b } }\n"))
        .containsExactly("auth.oauth2.jwks-url: 'http://id.example.net/j' must be https://"
            + " (plain http:// only to this machine's loopback address)");
    assertThat(load("auth: { source: oauth2, oauth2: { jwks-url: \"http://127.0.0.1:8080/j\","
        + " issuer: a, audience: b } }\n").auth().oauth2().jwksUrl())
        .isEqualTo("http://127.0.0.1:8080/j");
    assertThat(load("auth: { source: oauth2, oauth2: { introspection-url:"
        + " \"http://[::1]:8080/i\", client-id: c, client-secret-file: d } }\n").auth().oauth2()
        .introspectionUrl()).isEqualTo("http://[::1]:8080/i");
    assertThat(errors("auth: { source: oauth2, oauth2: { introspection-url:"
        + " \"https://svc:pw@a/i\" } }\n"))
        .containsExactly(
            "auth.oauth2.introspection-url: 'https://…@a/i' must not hold a user or password"
                + " (client-id and client-secret-file are sent in HTTP Basic auth)",
            "auth.oauth2.client-id: is required with introspection-url",
            "auth.oauth2.client-secret-file: is required with introspection-url");
    assertThat(errors("auth: { source: oauth2, oauth2: { jwks-url: \"https://a/j\", issuer: a,"
        + " audience: b, jwks-refresh: 0s, timeout: 2h, clock-skew: 1h, user-claim: \" \" }"
        + " }\n"))
        .containsExactly("auth.oauth2.jwks-refresh: must be longer than zero",
            "auth.oauth2.timeout: must be at most 1m",
            "auth.oauth2.clock-skew: must be at most 10m",
            "auth.oauth2.user-claim: must name a claim, e.g. email or sub");
  }
}
