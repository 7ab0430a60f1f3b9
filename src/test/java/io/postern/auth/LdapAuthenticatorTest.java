package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.listener.interceptor.InMemoryInterceptedSearchRequest;
import com.unboundid.ldap.listener.interceptor.InMemoryInterceptedSimpleBindRequest;
import com.unboundid.ldap.listener.interceptor.InMemoryOperationInterceptor;
import io.postern.backend.Route;
import io.postern.config.LdapConfig;
import io.postern.config.Protocol;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.Ports;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LDAP source against the SDK's in-memory directory (fast; the real slapd is LdapIT's):
 * escaping, the empty password, routing attributes, and what a dead server gives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LdapAuthenticatorTest {

  private static final String BASE = "ou=people,dc=example,dc=org";

  private final AtomicInteger binds = new AtomicInteger();
  private final AtomicInteger searches = new AtomicInteger();
  private InMemoryDirectoryServer directory;
  private Vertx vertx;

  @TempDir
  Path dir;

  @BeforeAll
  void start() throws Exception {
    InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig("dc=example,dc=org");
    config.setListenerConfigs(InMemoryListenerConfig.createLDAPConfig("ldap",
        InetAddress.getLoopbackAddress(), 0, null));
    config.addAdditionalBindCredentials("cn=postern,dc=example,dc=org", "service-pw");
    config.setSchema(null);
    config.addInMemoryOperationInterceptor(new InMemoryOperationInterceptor() {
      @Override
      public void processSimpleBindRequest(InMemoryInterceptedSimpleBindRequest request) {
        binds.incrementAndGet();
      }

      @Override
      public void processSearchRequest(InMemoryInterceptedSearchRequest request) {
        searches.incrementAndGet();
      }
    });
    directory = new InMemoryDirectoryServer(config);
    directory.add("dn: dc=example,dc=org", "objectClass: top", "objectClass: domain",
        "dc: example");
    directory.add("dn: " + BASE, "objectClass: organizationalUnit", "ou: people");
    directory.add("dn: uid=alice," + BASE, "objectClass: person", "uid: alice", "cn: A",
        "sn: A", "userPassword: alice-pw", "mailHost: 10.0.0.7:1143", "mailBackend: other",
        "mailUser: alice.smith");
    directory.add("dn: uid=dave," + BASE, "objectClass: person", "uid: dave", "cn: D", "sn: D",
        "userPassword: dave-pw", "lock: TRUE");
    directory.add("dn: uid=erin," + BASE, "objectClass: person", "uid: erin", "cn: E", "sn: E",
        "userPassword: erin-pw", "lock: FALSE");
    directory.startListening();
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stop() {
    vertx.close().await();
    directory.shutDown(true);
  }

  private LdapConfig searchConfig(List<String> urls) throws Exception {
    Path secret = dir.resolve("ldap.secret");
    Files.writeString(secret, "service-pw\n");
    return new LdapConfig(urls, false, null, BASE, "(uid=%u)",
        "cn=postern,dc=example,dc=org", secret,
        new LdapConfig.Attributes("mailBackend", "mailHost", "mailUser", "lock"),
        "Locked.", 2, Duration.ofSeconds(2));
  }

  private String url() {
    return "ldap://127.0.0.1:" + directory.getListenPort();
  }

  private static AuthRequest login(String user, String password) {
    return new AuthRequest(Protocol.IMAP, "login", new Credentials(user, Secret.of(password)),
        "192.0.2.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1);
  }

  private AuthResult ask(LdapAuthenticator ldap, String user, String password) {
    return ldap.authenticate(login(user, password)).await();
  }

  @Test
  void anEmptyPasswordShouldBeRefusedWithoutAskingTheDirectory() throws Exception {
    for (LdapConfig config : List.of(searchConfig(List.of(url())), direct(List.of(url())))) {
      LdapAuthenticator ldap = LdapAuthenticator.create(vertx, config);
      try {
        int before = binds.get() + searches.get();
        assertThat(ask(ldap, "alice", "")).isEqualTo(AuthResult.Rejected.badCredentials());
        assertThat(binds.get() + searches.get()).isEqualTo(before);
      } finally {
        ldap.close().await();
      }
    }
  }

  @Test
  void wildcardsAndFilterTricksInTheNameShouldFindNobody() throws Exception {
    LdapAuthenticator ldap = LdapAuthenticator.create(vertx, searchConfig(List.of(url())));
    try {
      for (String name : List.of("*", "al*", "alice)(uid=*", "alice)(|(uid=*", "a\\6cice",
          "alice\0")) {
        assertThat(ask(ldap, name, "alice-pw")).as(name)
            .isEqualTo(AuthResult.Rejected.badCredentials());
      }
      assertThat(ask(ldap, "alice", "alice-pw")).isInstanceOf(AuthResult.Accepted.class);
    } finally {
      ldap.close().await();
    }
  }

  @Test
  void theEntrysAttributesShouldRouteAndDisable() throws Exception {
    LdapAuthenticator ldap = LdapAuthenticator.create(vertx, searchConfig(List.of(url())));
    try {
      AuthResult.Accepted alice = (AuthResult.Accepted) ask(ldap, "alice", "alice-pw");
      assertThat(alice.route()).isEqualTo(new Route("other", "10.0.0.7", 1143, null));
      assertThat(alice.backendUser()).isEqualTo("alice.smith");
      assertThat(alice.backendPassword()).isEqualTo(Secret.of("alice-pw"));
      assertThat(ask(ldap, "alice", "wrong")).isEqualTo(AuthResult.Rejected.badCredentials());
      assertThat(ask(ldap, "nobody", "x")).isEqualTo(AuthResult.Rejected.badCredentials());
      // Disabled, but said only to who knows the password.
      assertThat(ask(ldap, "dave", "wrong")).isEqualTo(AuthResult.Rejected.badCredentials());
      assertThat(((AuthResult.Rejected) ask(ldap, "dave", "dave-pw")).disabledReason())
          .isEqualTo("Locked.");
      AuthResult.Accepted erin = (AuthResult.Accepted) ask(ldap, "erin", "erin-pw");
      assertThat(erin.route()).isEqualTo(Route.to("default"));
      assertThat(erin.backendUser()).isEqualTo("erin");
    } finally {
      ldap.close().await();
    }
  }

  @Test
  void aLookupShouldSearchAsTheServiceAccountAndGiveTheLoginsRouteWithoutAPassword()
      throws Exception {
    String dead = "ldap://127.0.0.1:" + Ports.closed();
    LdapAuthenticator ldap = LdapAuthenticator.create(vertx, searchConfig(List.of(dead, url())));
    try {
      AuthResult.Accepted alice = (AuthResult.Accepted) lookUp(ldap, "alice");
      assertThat(alice.route()).isEqualTo(new Route("other", "10.0.0.7", 1143, null));
      assertThat(alice.backendUser()).isEqualTo("alice.smith");
      assertThat(alice.backendPassword()).isNull();
      assertThat(ldap.up(dead)).isFalse();
      // The service account's connection is bound already: no customer is bound as.
      int before = binds.get();
      assertThat(lookUp(ldap, "erin")).isEqualTo(new AuthResult.Accepted(Route.to("default"),
          "erin", null));
      // Disabled: the login's answer for the right password, the text included.
      AuthResult dave = lookUp(ldap, "dave");
      assertThat(((AuthResult.Rejected) dave).disabledReason()).isEqualTo("Locked.");
      for (String unknown : List.of("nobody", "*", "alice)(uid=*", "")) {
        AuthResult result = lookUp(ldap, unknown);
        assertThat(result).as(unknown).isInstanceOf(AuthResult.Rejected.class);
        assertThat(((AuthResult.Rejected) result).disabledReason()).isNull();
      }
      assertThat(binds.get()).isEqualTo(before);
    } finally {
      ldap.close().await();
    }
    LdapAuthenticator none = LdapAuthenticator.create(vertx, searchConfig(List.of(dead)));
    try {
      assertThat(lookUp(none, "alice")).isInstanceOf(AuthResult.Unavailable.class);
    } finally {
      none.close().await();
    }
    LdapAuthenticator direct = LdapAuthenticator.create(vertx, direct(List.of(url())));
    try {
      assertThat(lookUp(direct, "alice")).isInstanceOf(AuthResult.Unavailable.class);
    } finally {
      direct.close().await();
    }
  }

  private static AuthResult lookUp(LdapAuthenticator ldap, String user) {
    return ldap.lookup(login(user, "")).await();
  }

  @Test
  void aDirectBindShouldEscapeTheDnAndRefuseAWrongPassword() throws Exception {
    LdapAuthenticator ldap = LdapAuthenticator.create(vertx, direct(List.of(url())));
    try {
      assertThat(ask(ldap, "alice", "alice-pw")).isInstanceOf(AuthResult.Accepted.class);
      assertThat(ask(ldap, "alice", "bad")).isEqualTo(AuthResult.Rejected.badCredentials());
      assertThat(ask(ldap, "alice,ou=people", "alice-pw"))
          .isEqualTo(AuthResult.Rejected.badCredentials());
    } finally {
      ldap.close().await();
    }
  }

  @Test
  void anEntryTheUserCannotReadShouldFailThatLoginOnlyAndKeepTheServer() throws Exception {
    // cn=postern binds (an extra credential of the directory) but has no entry to read.
    LdapConfig config = new LdapConfig(List.of(url()), false, null, null,
        LdapConfig.DEFAULT_FILTER, "cn=%u,dc=example,dc=org", null,
        new LdapConfig.Attributes("mailBackend", null, null, null),
        LdapConfig.DEFAULT_DISABLED_REASON, 2, Duration.ofSeconds(2));
    LdapAuthenticator ldap = LdapAuthenticator.create(vertx, config);
    try {
      assertThat(ask(ldap, "postern", "service-pw")).isInstanceOf(AuthResult.Unavailable.class);
      assertThat(ldap.up(url())).isTrue();
      assertThat(ask(ldap, "postern", "wrong")).isEqualTo(AuthResult.Rejected.badCredentials());
    } finally {
      ldap.close().await();
    }
  }

  @Test
  void aDeadFirstServerShouldFailOverAndNoServerShouldBeUnavailable() throws Exception {
    String dead = "ldap://127.0.0.1:" + Ports.closed();
    LdapAuthenticator ldap = LdapAuthenticator.create(vertx, searchConfig(List.of(dead, url())));
    try {
      assertThat(ask(ldap, "alice", "alice-pw")).isInstanceOf(AuthResult.Accepted.class);
      assertThat(ldap.up(dead)).isFalse();
      assertThat(ldap.up(url())).isTrue();
      ldap.ready().await();
    } finally {
      ldap.close().await();
    }
    LdapAuthenticator none = LdapAuthenticator.create(vertx, searchConfig(List.of(dead)));
    try {
      assertThat(ask(none, "alice", "alice-pw")).isInstanceOf(AuthResult.Unavailable.class);
      assertThat(isFailed(none)).isTrue();
    } finally {
      none.close().await();
    }
  }

  private static boolean isFailed(LdapAuthenticator ldap) {
    try {
      ldap.ready().await();
      return false;
    } catch (Exception e) {
      return true;
    }
  }

  private LdapConfig direct(List<String> urls) {
    return new LdapConfig(urls, false, null, null, LdapConfig.DEFAULT_FILTER,
        "uid=%u," + BASE, null, LdapConfig.Attributes.NONE, LdapConfig.DEFAULT_DISABLED_REASON,
        2, Duration.ofSeconds(2));
  }
}
