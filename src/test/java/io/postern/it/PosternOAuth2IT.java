package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.ProcessResult;
import io.postern.testing.TestIssuer;
import io.postern.testing.TestIssuer.SigningKey;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar with {@code auth.source: oauth2} against a small real issuer (an HTTP server in the
 * test serving a JWKS): {@code /health/ready} follows the JWKS, and a token sent as a password
 * (curl's IMAP login) is refused; what the configuration names wrongly is caught as
 * {@code --check-config} catches it in OAuth2SourceReloadTest. Token logins
 * through XOAUTH2/OAUTHBEARER need the client-side mechanisms, tested where they are built.
 */
class PosternOAuth2IT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  @Test
  void theJarShouldFollowTheJwksAndRefuseTokensAsPasswords() throws Exception {
    RealParts.require("curl");
    OpensslCertificates.Pair cert = OpensslCertificates.localhost(dir, "postern");
    SigningKey key = SigningKey.ec("ec-1");
    Vertx vertx = Vertx.vertx();
    try (TestIssuer issuer = TestIssuer.start()) {
      // The issuer's JWKS is down when Postern starts: no keys, not ready.
      issuer.jwksStatus(503);
      Path config = dir.resolve("postern.yaml");
      Files.writeString(config, config(cert, issuer));
      try (PosternJar postern = PosternJar.start(dir, Map.of(), "--config", config.toString())) {
        JsonObject auth = readiness(postern).getJsonObject("auth");
        assertThat(auth.getString("source")).isEqualTo("oauth2");
        assertThat(auth.getString("status")).startsWith("down").contains("HTTP 503");
        assertThat(postern.output()).contains("no keys: token logins are unavailable");

        // Back up: the keys are fetched again by the readiness probe itself.
        issuer.publish(key);
        issuer.jwksStatus(200);
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(() ->
            "up".equals(readiness(postern).getJsonObject("auth").getString("status")));

        // A valid token as a password: nothing takes a password here (LOGINDISABLED, no
        // AUTH=PLAIN), so curl gives up without sending it.
        long now = Instant.now().getEpochSecond();
        String token = key.sign(vertx, new JsonObject().put("iss", "https://id.example.net")
            .put("aud", "imap.example.net").put("email", "alice@example.net")
            .put("exp", now + 300));
        int imaps = postern.listenerPorts().get("imaps");
        ProcessResult login = Clients.curl(WAIT, "-k", "-v", "-u", "alice@example.net:" + token,
            "imaps://127.0.0.1:" + imaps + "/INBOX?ALL");
        assertThat(login.exitCode()).as(login.toString()).isEqualTo(67);
        assertThat(login.stderr()).contains("LOGINDISABLED AUTH=XOAUTH2 AUTH=OAUTHBEARER")
            .doesNotContain("AUTH=PLAIN").doesNotContain(token.substring(0, 20));
        assertThat(postern.output()).doesNotContain(token);

        // A token for another audience, by OAUTHBEARER: RFC 7628's error tells the client the
        // scope and where the issuer's discovery document is, then the command fails.
        String foreign = key.sign(vertx, new JsonObject().put("iss", "https://id.example.net")
            .put("aud", "other.example.net").put("email", "alice@example.net")
            .put("exp", now + 300));
        try (Conversation c = MailClient.implicitTls(imaps, cert.cert())) {
          c.expect("* OK");
          c.send("a AUTHENTICATE OAUTHBEARER " + Base64.getEncoder().encodeToString(
              ("n,a=alice@example.net,\u0001auth=Bearer " + foreign + "\u0001\u0001")
                  .getBytes(StandardCharsets.UTF_8)) + "\r\n");
          String challenge = c.readLine();
          assertThat(challenge).startsWith("+ ");
          assertThat(new JsonObject(new String(Base64.getDecoder().decode(
              challenge.substring(2)), StandardCharsets.UTF_8))).isEqualTo(new JsonObject()
              .put("status", "invalid_token").put("scope", "openid email")
              .put("openid-configuration", "https://id.example.net/.well-known/"
                  + "openid-configuration"));
          c.send("AQ==\r\n"); // ^A: the client has read the error
          assertThat(c.readLine()).startsWith("a NO [AUTHENTICATIONFAILED]");
        }
      }
    } finally {
      vertx.close().await();
    }
  }

  private static JsonObject readiness(PosternJar postern) throws Exception {
    ProcessResult r = Clients.curl(WAIT, "-s", postern.adminUrl() + "/health/ready");
    return new JsonObject(r.stdout());
  }

  private static String config(OpensslCertificates.Pair cert, TestIssuer issuer) {
    return String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth:",
        "  source: oauth2",
        "  failure-delay: 100ms",
        "  oauth2:",
        "    jwks-url: '" + issuer.jwksUrl() + "'",
        "    issuer: https://id.example.net",
        "    audience: imap.example.net",
        "    timeout: 5s",
        "    scope: openid email",
        "    openid-configuration: https://id.example.net/.well-known/openid-configuration",
        "backends:",
        "  default: { host: 127.0.0.1, imap: { port: 1, tls: none }, pop3: { port: 1,"
            + " tls: none } }",
        "limits: { connection-rate-per-ip: 0, handshake-rate-per-ip: 0 }",
        "admin: { address: 127.0.0.1, port: 0 }",
        "");
  }
}
