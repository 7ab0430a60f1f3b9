package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.postern.backend.Route;
import io.postern.config.Protocol;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.apache.commons.codec.digest.Crypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswdFileAuthenticatorTest {

  @TempDir
  Path dir;

  private Vertx vertx;
  private Path file;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    file = dir.resolve("users.passwd");
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static String line(String user, String password, String extra) {
    return user + ":{SHA512-CRYPT}" + Crypt.crypt(password, "$6$rounds=1000$salt") + "::::::"
        + extra;
  }

  private static AuthResult ask(Authenticator auth, String user, String password) {
    return auth.authenticate(new AuthRequest(Protocol.IMAP, "LOGIN",
        new Credentials(user, Secret.of(password)), "192.0.2.1", "TLSv1.3", null, 1)).await();
  }

  @Test
  void authenticateShouldAcceptTheRightPasswordAndRouteByExtraFields() throws Exception {
    Files.writeString(file, line("alice", "pw-a", "") + "\n"
        + line("bob", "pw-b", "backend=archive destuser=robert pass=master") + "\n"
        + line("carol", "pw-c", "host=10.0.0.7") + "\n"
        + line("dave", "pw-d", "nologin reason=Moved") + "\n");
    PasswdFileAuthenticator auth =
        PasswdFileAuthenticator.load(vertx, file, Set.of("default", "archive")).await();

    assertThat(ask(auth, "Alice", "pw-a")).isEqualTo(new AuthResult.Accepted(
        Route.to("default"), "Alice", Secret.of("pw-a")));
    assertThat(ask(auth, "bob", "pw-b")).isEqualTo(new AuthResult.Accepted(
        Route.to("archive"), "robert", Secret.of("master")));
    assertThat(ask(auth, "carol", "pw-c")).isEqualTo(new AuthResult.Accepted(
        Route.to("default").withHost("10.0.0.7"), "carol", Secret.of("pw-c")));
    assertThat(ask(auth, "dave", "pw-d")).isEqualTo(
        new AuthResult.Rejected("Moved", Duration.ZERO));
    // The account's reason is for someone who proved to be its owner only.
    assertThat(ask(auth, "dave", "wrong")).isEqualTo(AuthResult.Rejected.badCredentials());
    assertThat(ask(auth, "alice", "wrong")).isEqualTo(AuthResult.Rejected.badCredentials());
    assertThat(ask(auth, "nobody", "pw-a")).isEqualTo(AuthResult.Rejected.badCredentials());
  }

  @Test
  void theFileShouldBeReReadWhenItChanges() throws Exception {
    Files.writeString(file, line("alice", "old", "") + "\n");
    PasswdFileAuthenticator auth =
        PasswdFileAuthenticator.load(vertx, file, Set.of("default")).await();
    assertThat(ask(auth, "alice", "old")).isInstanceOf(AuthResult.Accepted.class);

    Files.writeString(file, line("alice", "new", "") + "\n" + line("bob", "b", "") + "\n");
    await().atMost(Duration.ofSeconds(15))
        .until(() -> ask(auth, "bob", "b") instanceof AuthResult.Accepted);
    assertThat(ask(auth, "alice", "old")).isEqualTo(AuthResult.Rejected.badCredentials());
    assertThat(ask(auth, "alice", "new")).isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void aBrokenFileShouldBeRefusedAndThePreviousOneKept() throws Exception {
    Files.writeString(file, line("alice", "pw", "") + "\n");
    PasswdFileAuthenticator auth =
        PasswdFileAuthenticator.load(vertx, file, Set.of("default")).await();
    Files.writeString(file, line("alice", "pw", "") + "\nbroken line without colon\n"
        + line("mallory", "m", "") + "\n");
    await().atMost(Duration.ofSeconds(15)).until(() -> auth.refusedReloads() > 0);
    assertThat(ask(auth, "alice", "pw")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(ask(auth, "mallory", "m")).isEqualTo(AuthResult.Rejected.badCredentials());
  }

  @Test
  void startUpShouldFailWithTheLineOfTheProblem() throws Exception {
    Files.writeString(file, "# users\n" + line("alice", "pw", "") + "\nbob:{NOPE}x\n");
    assertThatThrownBy(() -> PasswdFileAuthenticator.load(vertx, file, Set.of("default"))
        .await()).hasMessageStartingWith(file + ":3: ").hasMessageContaining("NOPE");
    Files.writeString(file, line("alice", "pw", "backend=elsewhere") + "\n");
    assertThatThrownBy(() -> PasswdFileAuthenticator.load(vertx, file, Set.of("default"))
        .await()).hasMessage(file + ":1: backend 'elsewhere' is not defined under backends");
    assertThatThrownBy(() -> PasswdFileAuthenticator.load(vertx, dir.resolve("missing"),
        Set.of("default")).await()).hasMessageContaining("does not exist");
  }
}
