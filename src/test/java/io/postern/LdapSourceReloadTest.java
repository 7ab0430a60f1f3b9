package io.postern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import io.postern.auth.LdapAuthenticator;
import io.postern.config.AuthConfig;
import io.postern.config.ConfigException;
import io.postern.config.LdapConfig;
import io.postern.config.PosternConfig;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload that switches to {@code auth.source: ldap} (and one whose LDAP settings cannot be
 * used), as ConfigReload does it; the directory is the SDK's in-memory one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LdapSourceReloadTest {

  @TempDir
  static Path dir;

  private InMemoryDirectoryServer directory;
  private FakeBackend backend;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig("dc=example,dc=org");
    config.setListenerConfigs(InMemoryListenerConfig.createLDAPConfig("ldap",
        InetAddress.getLoopbackAddress(), 0, null));
    config.setSchema(null);
    directory = new InMemoryDirectoryServer(config);
    directory.add("dn: dc=example,dc=org", "objectClass: domain", "dc: example");
    directory.add("dn: uid=bob,dc=example,dc=org", "objectClass: person", "uid: bob",
        "cn: B", "sn: B", "userPassword: bob-ldap-pw");
    directory.startListening();
    backend = FakeBackend.start(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
      String login = c.readLine();
      c.send(login.split(" ")[0] + " OK [CAPABILITY IMAP4rev1] Logged in\r\n");
      BackendScripts.imapCommands("fake").run(c);
    }, TestTls.shared("localhost"));
    postern = PosternFixture.builder(dir).user("alice", "pw").backend(backend.port(), 1)
        .plaintextListeners().cleartext(AuthConfig.Cleartext.ALLOW).start();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
    backend.close();
    directory.shutDown(true);
  }

  private PosternConfig withLdap(LdapConfig ldap) {
    PosternConfig config = postern.config();
    AuthConfig a = config.auth();
    return new PosternConfig(config.listeners(), config.tls(),
        new AuthConfig(AuthConfig.Source.LDAP, a.passwdFile(), a.http(), a.cleartext(),
            a.failureDelay(), a.maxAttempts(), a.cache(), a.throttle(), a.hashing(), ldap,
            null, null),
        config.backends(), config.limits(), config.admin(), config.logging());
  }

  private LdapConfig ldap(Path passwordFile) {
    return new LdapConfig(List.of("ldap://127.0.0.1:" + directory.getListenPort()), false,
        null, "dc=example,dc=org", LdapConfig.DEFAULT_FILTER,
        passwordFile == null ? "uid=%u,dc=example,dc=org" : "cn=nobody,dc=example,dc=org",
        passwordFile, null, LdapConfig.DEFAULT_DISABLED_REASON, 2, Duration.ofSeconds(2));
  }

  @Test
  void aReloadToLdapShouldDecideNewLogins() throws Exception {
    List<String> changes = postern.server().reload(
        PosternServer.load(postern.vertx(), withLdap(ldap(null)), null)).await();

    assertThat(changes).contains("auth source ldap loaded");
    assertThat(postern.server().resources().authenticator())
        .isInstanceOf(LdapAuthenticator.class);
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice pw\r\n");
      assertThat(c.readLine()).startsWith("a NO [AUTHENTICATIONFAILED]");
      c.send("b LOGIN bob bob-ldap-pw\r\n");
      assertThat(c.readLine()).startsWith("b OK");
    }
  }

  @Test
  void anUnreadableServicePasswordShouldRefuseTheReloadNamingTheKey() {
    Path missing = dir.resolve("missing.secret");
    assertThatThrownBy(() -> PosternServer.load(postern.vertx(), withLdap(ldap(missing)), null))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("auth.ldap.bind-password-file")
        .hasMessageContaining("cannot read " + missing);
  }
}
