package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.Authenticator;
import io.postern.config.AuthConfig;
import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A source that checks tokens only (auth.source: oauth2): clients are offered the token
 * mechanisms and nothing that takes a password, and a password sent anyway is refused at once,
 * as no attempt, without reaching the source.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokensOnlyLoginTest {

  private static final String REFUSED =
      "Passwords are not accepted here; log in with an OAuth 2.0 token (XOAUTH2 or OAUTHBEARER).";

  @TempDir
  static Path dir;

  private PosternFixture postern;
  private final List<AuthRequest> asked = new CopyOnWriteArrayList<>();

  @BeforeAll
  void start() throws Exception {
    postern = PosternFixture.builder(dir)
        .user("alice", "alice-pw")
        .backend(1, 1)
        .cleartext(AuthConfig.Cleartext.ALLOW)
        .wrapAuthenticator(passwdFile -> new TokensOnly())
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
  }

  /** Refuses every token: what is checked here is that passwords never get this far. */
  private final class TokensOnly implements Authenticator {
    @Override
    public String source() {
      return "oauth2";
    }

    @Override
    public boolean verifiesTokens() {
      return true;
    }

    @Override
    public boolean checksPasswords() {
      return false;
    }

    @Override
    public Future<AuthResult> authenticate(AuthRequest request) {
      asked.add(request);
      return Future.succeededFuture(AuthResult.Rejected.badCredentials());
    }
  }

  @Test
  void imapShouldOfferTokensOnlyAndRefuseLoginAndPlainWithoutAskingTheSource()
      throws Exception {
    double failures = MetricsReader.value(postern, "postern_logins_total", "protocol", "imap",
        "mechanism", "plain", "result", "failure");
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      assertThat(c.expect("* OK")).contains("LOGINDISABLED AUTH=XOAUTH2 AUTH=OAUTHBEARER")
          .doesNotContain("AUTH=PLAIN").doesNotContain("AUTH=LOGIN");
      c.send("a CAPABILITY\r\n");
      assertThat(c.readLine()).isEqualTo("* CAPABILITY IMAP4rev1 SASL-IR ID LITERAL+"
          + " LOGINDISABLED AUTH=XOAUTH2 AUTH=OAUTHBEARER");
      c.expect("a OK");
      c.send("b LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo("b NO [CANNOT] " + REFUSED);
      c.send("c AUTHENTICATE PLAIN " + plain("alice", "alice-pw") + "\r\n");
      assertThat(c.readLine()).isEqualTo("c NO [CANNOT] " + REFUSED);
      c.send("d AUTHENTICATE LOGIN\r\n");
      assertThat(c.readLine()).isEqualTo("d NO [CANNOT] " + REFUSED);
      // Not attempts: far more than auth.max-attempts leave the session open.
      for (int i = 0; i < 5; i++) {
        c.send("e" + i + " LOGIN alice alice-pw\r\n");
        assertThat(c.readLine()).startsWith("e" + i + " NO [CANNOT] Passwords");
      }
      c.send("f NOOP\r\n");
      c.expect("f OK");
    }
    assertThat(asked).isEmpty();
    // The operator sees them as failed logins (AUTHENTICATE PLAIN: c, here alone).
    assertThat(MetricsReader.value(postern, "postern_logins_total", "protocol", "imap",
        "mechanism", "plain", "result", "failure")).isEqualTo(failures + 1);
  }

  @Test
  void imapBeforeTlsShouldOfferNoLoginEvenWhereCleartextIsAllowed() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("imap"), postern.tls())) {
      assertThat(c.readLine()).contains("STARTTLS LOGINDISABLED]")
          .doesNotContain("AUTH=");
      c.send("a LOGIN alice alice-pw\r\n");
      assertThat(c.readLine()).isEqualTo("a NO [CANNOT] " + REFUSED);
    }
    assertThat(asked).isEmpty();
  }

  @Test
  void pop3ShouldOfferTokensOnlyAndRefuseUserAndPlain() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      c.expect("+OK");
      c.send("CAPA\r\n");
      List<String> capa = c.readUntil(".");
      assertThat(capa).contains("SASL XOAUTH2 OAUTHBEARER").doesNotContain("USER");
      c.send("AUTH\r\n");
      assertThat(c.readUntil(".")).containsExactly("+OK", "XOAUTH2", "OAUTHBEARER", ".");
      c.send("USER alice\r\n");
      assertThat(c.readLine()).isEqualTo("-ERR [AUTH] " + REFUSED);
      c.send("AUTH PLAIN " + plain("alice", "alice-pw") + "\r\n");
      assertThat(c.readLine()).isEqualTo("-ERR [AUTH] " + REFUSED);
      c.send("NOOP\r\n");
      assertThat(c.readLine()).startsWith("-ERR");
      c.send("QUIT\r\n");
      c.expect("+OK");
    }
    assertThat(asked).isEmpty();
  }

  private static String plain(String user, String password) {
    return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password)
        .getBytes(StandardCharsets.UTF_8));
  }
}
