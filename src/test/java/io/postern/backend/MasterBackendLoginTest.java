package io.postern.backend;

import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.Authenticator;
import io.postern.config.TlsMode;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Secret;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * How Postern opens a customer's mailbox with a backend's master user: SASL PLAIN with the
 * customer as the authorization identity, at IMAP (with SASL-IR, or after the continuation) and
 * POP3; a backend that does not offer PLAIN is a configuration problem, never a wrong password.
 * The auth answer is stubbed here ({@code customer*support} names the customer's backend); the
 * master file itself is in MasterLoginsTest and MasterUserDovecotIT.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MasterBackendLoginTest {

  private static final String MASTER = "postern-master";
  private static final String MASTER_PW = "master-pw";

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");
  private final List<String> seen = Collections.synchronizedList(new ArrayList<>());
  private final List<FakeBackend> fakes = new ArrayList<>();
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    PosternFixture.Builder builder = PosternFixture.builder(dir).maxAttempts(20);
    FakeBackend saslIr = imap("IMAP4rev1 AUTH=PLAIN SASL-IR");
    FakeBackend continuation = imap("IMAP4rev1 AUTH=PLAIN");
    FakeBackend noPlain = imap("IMAP4rev1 AUTH=LOGIN");
    FakeBackend pop3 = pop3("SASL PLAIN\r\nUSER\r\n");
    FakeBackend pop3NoPlain = pop3("USER\r\n");
    // Without master config, '*' is part of a name like any other character.
    FakeBackend odd = start(BackendScripts.imap("IMAP4rev1", "odd*name", "odd-pw",
        BackendScripts.imapCommands("odd*name")));
    builder.backend("default", "127.0.0.1", odd.port(), TlsMode.NONE, pop3.port(), TlsMode.NONE,
            true, null)
        .backend("saslir", "127.0.0.1", saslIr.port(), TlsMode.NONE, pop3.port(), TlsMode.NONE,
            true, null)
        .backend("continuation", "127.0.0.1", continuation.port(), TlsMode.NONE,
            pop3NoPlain.port(), TlsMode.NONE, true, null)
        .backend("noplain", "127.0.0.1", noPlain.port(), TlsMode.NONE, pop3NoPlain.port(),
            TlsMode.NONE, true, null)
        .passwdLine(passwdLine("odd*name", "odd-pw", ""))
        .wrapAuthenticator(MasterBackendLoginTest::masterStub);
    postern = builder.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    for (FakeBackend fake : fakes) {
      fake.close();
    }
  }

  /** {@code <backend>*support} opens mailbox {@code box} at that backend as the master user. */
  private static Authenticator masterStub(Authenticator passwd) {
    return new Authenticator() {
      @Override
      public Future<AuthResult> authenticate(AuthRequest request) {
        String user = request.credentials().user();
        if (!user.endsWith("*support")) {
          return passwd.authenticate(request);
        }
        return Future.succeededFuture(new AuthResult.Accepted(
            Route.to(user.substring(0, user.indexOf('*'))), MASTER, Secret.of(MASTER_PW),
            BackendCredentials.Mechanism.PASSWORD, "box", user));
      }

      @Override
      public String source() {
        return passwd.source();
      }
    };
  }

  private FakeBackend start(FakeBackend.Script script) throws Exception {
    FakeBackend fake = FakeBackend.start(script, tls);
    fakes.add(fake);
    return fake;
  }

  private static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8)
        .replace('\0', '|');
  }

  /** Takes AUTHENTICATE PLAIN from the master user for "box" only. */
  private FakeBackend imap(String capabilities) throws Exception {
    return start(c -> {
      c.send("* OK [CAPABILITY " + capabilities + "] ready\r\n");
      while (true) {
        String[] words = c.readLine().split(" ");
        String tag = words[0];
        switch (words[1].toUpperCase()) {
          case "CAPABILITY" -> c.send("* CAPABILITY " + capabilities + "\r\n" + tag
              + " OK done\r\n");
          case "AUTHENTICATE" -> {
            String response;
            if (words.length > 3) {
              response = words[3];
            } else {
              c.send("+ \r\n");
              response = c.readLine();
            }
            String plain = decode(response);
            seen.add((words.length > 3 ? "ir " : "continuation ") + plain);
            if (plain.equals("box|" + MASTER + "|" + MASTER_PW)) {
              c.send(tag + " OK [CAPABILITY IMAP4rev1] Logged in\r\n");
              BackendScripts.imapCommands("box").run(c);
              return;
            }
            c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
          }
          case "LOGIN" -> {
            seen.add("LOGIN");
            c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
          }
          default -> c.send(tag + " BAD unexpected\r\n");
        }
      }
    });
  }

  private FakeBackend pop3(String capa) throws Exception {
    return start(c -> {
      c.send("+OK ready\r\n");
      while (true) {
        String[] words = c.readLine().split(" ");
        switch (words[0].toUpperCase()) {
          case "CAPA" -> c.send("+OK\r\n" + capa + ".\r\n");
          case "AUTH" -> {
            String plain = decode(words[2]);
            seen.add("pop3 " + plain);
            if (plain.equals("box|" + MASTER + "|" + MASTER_PW)) {
              c.send("+OK Logged in\r\n");
              c.readLine();
              return;
            }
            c.send("-ERR [AUTH] Authentication failed.\r\n");
          }
          default -> {
            seen.add("pop3 " + words[0]);
            c.send("-ERR [AUTH] Authentication failed.\r\n");
          }
        }
      }
    });
  }

  private String login(int port, String user, String password) throws Exception {
    try (Conversation c = MailClient.implicitTls(port, tls)) {
      c.expect("* OK");
      c.send("a LOGIN \"" + user + "\" " + password + "\r\n");
      List<String> lines = c.readUntil("a ");
      return lines.get(lines.size() - 1);
    }
  }

  @Test
  void imapShouldAuthenticatePlainWithTheCustomerAsAuthorizationIdentity() throws Exception {
    seen.clear();
    assertThat(login(postern.port("imaps"), "saslir*support", "x")).startsWith("a OK");
    assertThat(login(postern.port("imaps"), "continuation*support", "x")).startsWith("a OK");
    assertThat(seen).containsExactly("ir box|postern-master|master-pw",
        "continuation box|postern-master|master-pw");
  }

  @Test
  void pop3ShouldAuthPlainWithTheCustomerAsAuthorizationIdentity() throws Exception {
    seen.clear();
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), tls)) {
      c.expect("+OK");
      c.send("USER saslir*support\r\nPASS x\r\n");
      c.expect("+OK");
      assertThat(c.expect("+OK")).contains("Logged in");
    }
    assertThat(seen).containsExactly("pop3 box|postern-master|master-pw");
  }

  @Test
  void aBackendWithoutPlainShouldBeAConfigurationProblemNotAWrongPassword() throws Exception {
    seen.clear();
    assertThat(login(postern.port("imaps"), "noplain*support", "x")).startsWith("a NO")
        .doesNotContain("AUTHENTICATIONFAILED").contains("UNAVAILABLE");
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), tls)) {
      c.expect("+OK");
      c.send("USER continuation*support\r\nPASS x\r\n");
      c.expect("+OK");
      assertThat(c.expect("-ERR")).startsWith("-ERR [SYS/TEMP]");
    }
    // Neither backend was asked about any password.
    assertThat(seen).isEmpty();
  }

  @Test
  void withoutMasterUsersANameWithAnAsteriskShouldBeJustAName() throws Exception {
    assertThat(login(postern.port("imaps"), "odd*name", "odd-pw")).startsWith("a OK");
    assertThat(login(postern.port("imaps"), "odd*name", "wrong")).startsWith("a NO");
  }
}
