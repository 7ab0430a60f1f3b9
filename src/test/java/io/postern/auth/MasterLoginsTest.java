package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.backend.Route;
import io.postern.config.AuthConfig;
import io.postern.config.BackendConfig;
import io.postern.config.MasterConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.commons.codec.digest.Crypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Master logins ({@code customer*master}) around a passwd-file source. */
class MasterLoginsTest {

  private static final Secret BACKEND_MASTER_PW = Secret.of("backend-master-secret");
  private static final String BACKEND_MASTER_TEXT = "backend-master-secret";

  @TempDir
  Path dir;

  private Vertx vertx;
  private Path users;
  private Path masters;
  private Map<String, BackendConfig> backends;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    users = dir.resolve("users.passwd");
    masters = dir.resolve("masters.passwd");
    Files.writeString(users, line("alice", "alice-pw", "") + "\n"
        + line("bob", "bob-pw", "backend=archive destuser=robert") + "\n"
        + line("carol", "carol-pw", "nologin reason=Moved") + "\n"
        + line("dave", "dave-pw", "backend=plain") + "\n");
    Files.writeString(masters, line("support", "support-pw", "") + "\n"
        + line("ops*night", "night-pw", "") + "\n");
    backends = new LinkedHashMap<>();
    backends.put("default", backend("default").withMaster(new BackendConfig.Master(
        "postern-master", dir.resolve("pass"), BACKEND_MASTER_TEXT)));
    backends.put("archive", backend("archive").withMaster(new BackendConfig.Master(
        "archive-master", dir.resolve("pass2"), "archive-secret")));
    backends.put("plain", backend("plain"));
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  private static BackendConfig backend(String name) {
    return new BackendConfig(name, "127.0.0.1", new BackendConfig.Endpoint(143, TlsMode.NONE),
        new BackendConfig.Endpoint(110, TlsMode.NONE), true, null);
  }

  private static String line(String user, String password, String extra) {
    return user + ":{SHA512-CRYPT}" + Crypt.crypt(password, "$6$rounds=1000$salt") + "::::::"
        + extra;
  }

  private MasterLogins load(String separator) {
    PasswdFileAuthenticator source = PasswdFileAuthenticator.load(vertx, users,
        backends.keySet()).await();
    return MasterLogins.load(vertx, new MasterConfig(separator, masters), source, backends,
        AuthConfig.Hashing.DEFAULT, address -> false).await();
  }

  private static AuthRequest request(String user, String password) {
    return new AuthRequest(Protocol.IMAP, "LOGIN", new Credentials(user, Secret.of(password)),
        "192.0.2.1", "TLSv1.3", null, 1);
  }

  private static AuthResult ask(Authenticator auth, String user, String password) {
    return auth.authenticate(request(user, password)).await();
  }

  @Test
  void theMastersPasswordShouldOpenTheCustomersMailboxWithTheBackendsMasterUser() {
    MasterLogins auth = load("*");

    assertThat(ask(auth, "alice*support", "support-pw")).isEqualTo(new AuthResult.Accepted(
        Route.to("default"), "postern-master", BACKEND_MASTER_PW,
        BackendCredentials.Mechanism.PASSWORD, "alice", "alice*support"));
    // The customer's record routes and renames: the backend's own master user opens robert.
    AuthResult.Accepted bob = (AuthResult.Accepted) ask(auth, "bob*support", "support-pw");
    assertThat(bob.route()).isEqualTo(Route.to("archive"));
    assertThat(bob.credentials()).isEqualTo(new BackendCredentials(
        BackendCredentials.Mechanism.PASSWORD, "archive-master", Secret.of("archive-secret"),
        "robert"));
    assertThat(bob.credentials().mailbox()).isEqualTo("robert");
  }

  @Test
  void theNameShouldBeSplitAtTheFirstSeparatorAsDovecotDoes() {
    assertThat(MasterName.split("alice*support", "*"))
        .isEqualTo(new MasterName("alice", "support"));
    assertThat(MasterName.split("alice*ops*night", "*"))
        .isEqualTo(new MasterName("alice", "ops*night"));
    assertThat(MasterName.split("alice+-+support", "+-+"))
        .isEqualTo(new MasterName("alice", "support"));
    assertThat(MasterName.split("alice", "*")).isNull();
    assertThat(MasterName.split("*support", "*").complete()).isFalse();
    assertThat(MasterName.split("alice*", "*").complete()).isFalse();

    MasterLogins auth = load("*");
    assertThat(ask(auth, "alice*ops*night", "night-pw")).isInstanceOf(AuthResult.Accepted.class);
    assertThat(ask(auth, "*support", "support-pw")).isInstanceOf(AuthResult.Rejected.class);
    assertThat(ask(auth, "alice*", "alice-pw")).isInstanceOf(AuthResult.Rejected.class);
  }

  @Test
  void theSeparatorShouldBeConfigurable() {
    MasterLogins auth = load("%");
    assertThat(ask(auth, "alice%support", "support-pw")).isInstanceOf(AuthResult.Accepted.class);
    // With another separator, '*' is part of a name like any other character.
    assertThat(ask(auth, "alice*support", "support-pw"))
        .isEqualTo(AuthResult.Rejected.badCredentials());
  }

  @Test
  void aWrongMasterPasswordOrAnUnknownMasterShouldBeBadCredentials() {
    MasterLogins auth = load("*");

    AuthResult wrong = ask(auth, "alice*support", "alice-pw");
    assertThat(wrong).isInstanceOf(AuthResult.Rejected.class);
    assertThat(((AuthResult.Rejected) wrong).disabledReason()).isNull();
    assertThat(((AuthResult.Rejected) wrong).sourceText()).contains("support")
        .doesNotContain("alice-pw");
    AuthResult unknown = ask(auth, "alice*nobody", "support-pw");
    assertThat(((AuthResult.Rejected) unknown).disabledReason()).isNull();
    // A customer's own password is no master password, nor a master's a customer's.
    assertThat(ask(auth, "alice", "support-pw")).isEqualTo(AuthResult.Rejected.badCredentials());
    assertThat(ask(auth, "alice", "alice-pw")).isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void anUnknownCustomerShouldBeBadCredentialsAndADisabledOneTheDisabledReply() {
    MasterLogins auth = load("*");

    AuthResult unknown = ask(auth, "mallory*support", "support-pw");
    assertThat(((AuthResult.Rejected) unknown).disabledReason()).isNull();
    assertThat(((AuthResult.Rejected) unknown).sourceText()).contains("unknown customer");
    AuthResult disabled = ask(auth, "carol*support", "support-pw");
    assertThat(((AuthResult.Rejected) disabled).disabledReason()).isEqualTo("Moved");
  }

  @Test
  void aBackendWithoutAMasterUserShouldRefuseMasterLoginsAsAConfigurationProblem() {
    MasterLogins auth = load("*");

    AuthResult result = ask(auth, "dave*support", "support-pw");
    assertThat(result).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) result).why()).contains("backends.plain.master");
    // dave's own login is untouched.
    assertThat(ask(auth, "dave", "dave-pw")).isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void theSourcesTokensAndExternalLoginsShouldStayOfferedWithMasterUsers() {
    Authenticator http = new Authenticator() {
      @Override
      public Future<AuthResult> authenticate(AuthRequest request) {
        return Future.succeededFuture(AuthResult.Rejected.badCredentials());
      }

      @Override
      public String source() {
        return "http";
      }

      @Override
      public boolean verifiesTokens() {
        return true;
      }

      @Override
      public boolean decidesExternal() {
        return true;
      }
    };
    MasterLogins auth = MasterLogins.load(vertx, new MasterConfig("*", masters), http,
        backends, AuthConfig.Hashing.DEFAULT, address -> false).await();
    // What the session offers (AUTH=XOAUTH2, EXTERNAL) asks the outermost source.
    assertThat(auth.verifiesTokens()).isTrue();
    assertThat(auth.decidesExternal()).isTrue();
    assertThat(load("*").verifiesTokens()).isFalse();
  }

  @Test
  void aSourceThatCannotLookUpUsersShouldFailMasterLoginsAsUnavailable() {
    Authenticator noLookup = new Authenticator() {
      @Override
      public Future<AuthResult> authenticate(AuthRequest request) {
        return Future.succeededFuture(new AuthResult.Accepted(Route.to("default"),
            request.credentials().user(), request.credentials().password()));
      }

      @Override
      public String source() {
        return "http";
      }
    };
    MasterLogins auth = MasterLogins.load(vertx, new MasterConfig("*", masters), noLookup,
        backends, AuthConfig.Hashing.DEFAULT, address -> false).await();

    AuthResult result = ask(auth, "alice*support", "support-pw");
    assertThat(result).isInstanceOf(AuthResult.Unavailable.class);
    assertThat(((AuthResult.Unavailable) result).why()).contains("cannot look up users");
    // A wrong master password is still a wrong password, whatever the source.
    assertThat(ask(auth, "alice*support", "bad")).isInstanceOf(AuthResult.Rejected.class);
    // Names without the separator go to the source as they are.
    assertThat(ask(auth, "alice", "x")).isInstanceOf(AuthResult.Accepted.class);
  }

  @Test
  void theMastersPasswordShouldBeCheckedInTheSourcesHashingQueueOffTheEventLoop()
      throws Exception {
    // A hash slow enough to be seen running: tens of milliseconds.
    Files.writeString(masters, "slow:{SHA512-CRYPT}"
        + Crypt.crypt("slow-pw", "$6$rounds=200000$salt") + "\n");
    PasswdFileAuthenticator source = PasswdFileAuthenticator.load(vertx, users,
        backends.keySet()).await();
    MasterLogins auth = MasterLogins.load(vertx, new MasterConfig("*", masters), source,
        backends, AuthConfig.Hashing.DEFAULT, address -> false).await();

    Promise<Boolean> pendingOnTheLoop = Promise.promise();
    Promise<AuthResult> answer = Promise.promise();
    vertx.runOnContext(v -> {
      Future<AuthResult> result = auth.authenticate(request("alice*slow", "slow-pw"));
      // The event loop got its future back at once: the hash runs on a hashing thread.
      pendingOnTheLoop.complete(!result.isComplete() && source.hashing().running() == 1);
      result.onComplete(answer);
    });

    assertThat(pendingOnTheLoop.future().await()).isTrue();
    assertThat(answer.future().await()).isInstanceOf(AuthResult.Accepted.class);
    assertThat(auth.masters().hashing()).isSameAs(source.hashing());
  }

  @Test
  void changedBackendMastersShouldEmptyTheCache() {
    MasterLogins auth = load("*");
    int[] cleared = {0};
    auth.onChange(() -> cleared[0]++);

    auth.backendMasters(backends);
    assertThat(cleared[0]).isZero();
    Map<String, BackendConfig> rotated = new LinkedHashMap<>(backends);
    rotated.put("default", backends.get("default").withMaster(
        backends.get("default").master().withPassword("rotated")));
    auth.backendMasters(rotated);
    assertThat(cleared[0]).isEqualTo(1);

    AuthResult.Accepted after = (AuthResult.Accepted) ask(auth, "alice*support", "support-pw");
    assertThat(after.backendPassword()).isEqualTo(Secret.of("rotated"));
  }

  @Test
  void theSecretsShouldNeverAppearInToString() {
    MasterLogins auth = load("*");
    AuthResult.Accepted accepted = (AuthResult.Accepted) ask(auth, "alice*support", "support-pw");

    assertThat(accepted.toString()).contains("postern-master").contains("alice")
        .doesNotContain("backend-master-secret").doesNotContain("support-pw");
    assertThat(backends.get("default").master().toString())
        .doesNotContain("backend-master-secret");
    assertThat(backends.get("default").toString()).doesNotContain("backend-master-secret");
  }

  @Test
  void lookupShouldFindAPasswdFileUserWithoutItsPassword() {
    PasswdFileAuthenticator source = PasswdFileAuthenticator.load(vertx, users,
        backends.keySet()).await();

    assertThat(source.lookup(request("bob", "")).await()).isEqualTo(new AuthResult.Accepted(
        Route.to("archive"), "robert", null));
    assertThat(source.lookup(request("carol", "")).await())
        .isEqualTo(new AuthResult.Rejected("Moved", Duration.ZERO));
    assertThat(source.lookup(request("nobody", "")).await())
        .isInstanceOf(AuthResult.Rejected.class);
    assertThat(new AuthCache(source, new AuthConfig.Cache(Duration.ofMinutes(1),
        Duration.ofMinutes(1), 100), new AuthCache.Counters(() -> { }, () -> { }, n -> { }))
        .lookup(request("bob", "")).await()).isInstanceOf(AuthResult.Accepted.class);
    source.close().await();
  }
}
