package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.LdapAuthenticator;
import io.postern.auth.MasterLogins;
import io.postern.config.BackendConfig;
import io.postern.config.LdapConfig;
import io.postern.config.MasterConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code auth.source: ldap} against a real OpenLDAP slapd (one for the class) and a real
 * Dovecot, with curl and Python's imaplib as the clients. Two Posterns: one binds as the user
 * through a {@code bind-dn} template over LDAPS; the other searches as a service account over
 * StartTLS, routes by the entry's attributes, has a dead server listed first, and has master
 * users ({@code customer*support}) whose customers it looks up in the directory, opening their
 * mailboxes as Dovecot's master user.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LdapIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final String SERVICE_PW = "service pw";
  private static final String DISABLED_TEXT = "Account locked by the ISP.";
  private static final String BACKEND_MASTER_PW = "backend-master-pw";

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private SlapdServer slapd;
  private PosternFixture direct;
  private PosternFixture search;
  private Path ca;
  private String deadUrl;
  private String liveUrl;

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    RealParts.require("python3");
    // Dovecot's master passdb holds Postern's backend master user only (outside Dovecot's own
    // directory, which must start empty; readable by its auth process).
    Path dovecotMasters = Files.createDirectories(dir.resolve("dovecot-masters"));
    Files.setPosixFilePermissions(dovecotMasters, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path dovecotMasterFile = dovecotMasters.resolve("masters");
    Files.writeString(dovecotMasterFile, "postern-master:{PLAIN}" + BACKEND_MASTER_PW + "\n");
    Files.setPosixFilePermissions(dovecotMasterFile, PosixFilePermissions.fromString("rw-r--r--"));
    dovecot = DovecotServer.start(dir.resolve("dovecot"), Map.of("alice", "alice-pw",
        "bob", "carol-pw", "erin", "erin-pw"), String.join("\n", "",
        "auth_master_user_separator = *",
        "passdb {",
        "  driver = passwd-file",
        "  master = yes",
        "  args = " + dovecotMasterFile,
        "  result_success = continue",
        "}", ""));
    for (String user : List.of("alice", "bob", "erin")) {
      dovecot.deliver(user, ("Subject: for " + user + "\r\n\r\nhello\r\n")
          .getBytes(StandardCharsets.US_ASCII));
    }
    // The name only: ldaps://127.0.0.1 must fail the host name check.
    OpensslCertificates.Pair tls = OpensslCertificates.selfSigned(
        Files.createDirectories(dir.resolve("tls")), "slapd", "localhost", "localhost");
    ca = tls.cert();
    slapd = SlapdServer.start(dir.resolve("slapd"), String.join("",
        SlapdServer.person("alice", "alice-pw", List.of()),
        // Logs in at Dovecot as bob.
        SlapdServer.person("carol", "carol-pw", List.of("employeeNumber: bob")),
        SlapdServer.person("dave", "dave-pw", List.of("employeeType: TRUE")),
        // Backend "elsewhere" has nobody listening; erin's host attribute overrides it.
        SlapdServer.person("erin", "erin-pw", List.of("departmentNumber: elsewhere",
            "host: 127.0.0.1")),
        SlapdServer.person("frank", "frank-pw", List.of("departmentNumber: elsewhere"))),
        SERVICE_PW, tls.cert(), tls.key());
    Path secret = dir.resolve("ldap.secret");
    Files.writeString(secret, SERVICE_PW + "\n");

    direct = posternWith(new LdapConfig(List.of("ldaps://localhost:" + slapd.ldapsPort()),
        false, ca, null, LdapConfig.DEFAULT_FILTER, "uid=%u," + SlapdServer.PEOPLE, null,
        LdapConfig.Attributes.NONE, LdapConfig.DEFAULT_DISABLED_REASON, 2,
        Duration.ofSeconds(2)), "direct");
    deadUrl = "ldap://127.0.0.1:" + Ports.closed();
    liveUrl = "ldap://localhost:" + slapd.ldapPort();
    Path masters = dir.resolve("masters.passwd");
    Files.writeString(masters, PosternFixture.passwdLine("support", "support-pw", "") + "\n");
    Path backendMasterPass = dir.resolve("backend-master.pass");
    Files.writeString(backendMasterPass, BACKEND_MASTER_PW + "\n");
    Files.setPosixFilePermissions(backendMasterPass, PosixFilePermissions.fromString("rw-------"));
    search = posternWith(new LdapConfig(List.of(deadUrl, liveUrl), true, ca,
        SlapdServer.PEOPLE, "(&(objectClass=inetOrgPerson)(uid=%u))", SlapdServer.SERVICE_DN,
        secret, new LdapConfig.Attributes("departmentNumber", "host", "employeeNumber",
            "employeeType"), DISABLED_TEXT, 2, Duration.ofSeconds(2)), "search",
        new MasterConfig("*", masters), new BackendConfig.Master("postern-master",
            backendMasterPass, null));
  }

  private PosternFixture posternWith(LdapConfig ldap, String name) throws Exception {
    return posternWith(ldap, name, null, null);
  }

  /** {@code masters} and the default backend's {@code backendMaster}: null for none. */
  private PosternFixture posternWith(LdapConfig ldap, String name, MasterConfig masters,
      BackendConfig.Master backendMaster) throws Exception {
    return PosternFixture.builder(dir.resolve(name))
        // The direct one caches answers (the last test shows it); the other asks every time.
        .authCache(Duration.ofSeconds(60), Duration.ofMillis(100),
            name.equals("direct") ? 1000 : 0)
        .backend(new BackendConfig("default", "127.0.0.1", new BackendConfig.Endpoint(
            dovecot.imapPort(), TlsMode.NONE), new BackendConfig.Endpoint(dovecot.pop3Port(),
            TlsMode.NONE), true, null).withMaster(backendMaster))
        .backend(new BackendConfig("elsewhere", "127.0.0.3", new BackendConfig.Endpoint(
            dovecot.imapPort(), TlsMode.NONE), new BackendConfig.Endpoint(dovecot.pop3Port(),
            TlsMode.NONE), true, null))
        .ldapAuth(ldap)
        .masterUsers(masters)
        .failureDelay(Duration.ofMillis(100))
        .start();
  }

  /** The search Postern's LDAP source, inside its master users. */
  private LdapAuthenticator searchSource() {
    return (LdapAuthenticator) ((MasterLogins) search.server().resources().authenticator())
        .wrapped();
  }

  @AfterAll
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {search, direct, slapd, dovecot}) {
      if (c != null) {
        c.close();
      }
    }
  }

  private ProcessResult curl(PosternFixture postern, String user, String password)
      throws Exception {
    return Clients.curl(CLIENT_TIMEOUT, "--cacert", postern.tls().certPath().toString(), "-u",
        user + ":" + password, "imaps://localhost:" + postern.port("imaps") + "/INBOX;UID=1");
  }

  private ProcessResult python(PosternFixture postern, String user, String password,
      boolean expectFailure) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("--host", "localhost", "--port",
        String.valueOf(postern.port("imap")), "--tls", "starttls", "--cafile",
        postern.tls().certPath().toString(), "--user", user, "--password", password,
        "--mech", "plain"));
    if (expectFailure) {
      args.add("--expect-login-failure");
    }
    return Clients.python(CLIENT_TIMEOUT, "imap_client.py", args.toArray(String[]::new));
  }

  @Test
  @Order(1)
  void aDirectBindOverLdapsShouldLogInAndAWrongPasswordShouldNot() throws Exception {
    ProcessResult ok = curl(direct, "alice", "alice-pw");
    assertThat(ok.exitCode()).as("%s", ok).isZero();
    assertThat(ok.stdout()).contains("Subject: for alice");
    ProcessResult wrong = curl(direct, "alice", "nope");
    assertThat(wrong.exitCode()).as("%s", wrong).isEqualTo(67);
  }

  @Test
  @Order(2)
  void aSearchOverStartTlsShouldFailOverPastADeadServer() throws Exception {
    ProcessResult py = python(search, "alice", "alice-pw", false);
    assertThat(py.exitCode()).as("%s", py).isZero();
    assertThat(py.stdout()).contains("\"login\": \"ok\"");
    LdapAuthenticator ldap = searchSource();
    assertThat(ldap.up(deadUrl)).isFalse();
    assertThat(ldap.up(liveUrl)).isTrue();
    ProcessResult wrong = python(search, "alice", "alice-pw2", true);
    assertThat(wrong.exitCode()).as("%s", wrong).isZero();
    assertThat(wrong.stdout()).contains("AUTHENTICATIONFAILED");
  }

  @Test
  @Order(3)
  void theEntrysAttributesShouldRewriteTheUserAndChooseTheBackendOrHost() throws Exception {
    ProcessResult carol = curl(search, "carol", "carol-pw");
    assertThat(carol.exitCode()).as("%s", carol).isZero();
    assertThat(carol.stdout()).contains("Subject: for bob");
    ProcessResult erin = curl(search, "erin", "erin-pw");
    assertThat(erin.exitCode()).as("%s", erin).isZero();
    assertThat(erin.stdout()).contains("Subject: for erin");
    // Backend "elsewhere" without erin's host: nobody there, a temporary failure.
    ProcessResult frank = python(search, "frank", "frank-pw", true);
    assertThat(frank.exitCode()).as("%s", frank).isZero();
    assertThat(frank.stdout()).contains("[UNAVAILABLE]");
  }

  @Test
  @Order(4)
  void aDisabledAccountShouldBeRefusedWithItsTextOnlyGivenItsPassword() throws Exception {
    ProcessResult right = python(search, "dave", "dave-pw", true);
    assertThat(right.exitCode()).as("%s", right).isZero();
    assertThat(right.stdout()).contains("[CONTACTADMIN] " + DISABLED_TEXT);
    ProcessResult wrong = python(search, "dave", "guess", true);
    assertThat(wrong.stdout()).contains("AUTHENTICATIONFAILED").doesNotContain(DISABLED_TEXT);
  }

  @Test
  @Order(5)
  void aMasterShouldOpenTheLdapCustomersMailboxAndADisabledOrUnknownOneShouldBeRefused()
      throws Exception {
    // The customer's password is never asked: support's, then Dovecot's master user.
    ProcessResult alice = curl(search, "alice*support", "support-pw");
    assertThat(alice.exitCode()).as("%s", alice).isZero();
    assertThat(alice.stdout()).contains("Subject: for alice");
    // The entry's user attribute rewrites carol to bob, as for her own login.
    ProcessResult carol = curl(search, "carol*support", "support-pw");
    assertThat(carol.exitCode()).as("%s", carol).isZero();
    assertThat(carol.stdout()).contains("Subject: for bob");
    assertThat(dovecot.logText()).contains("Master user logging in as alice")
        .contains("Master user logging in as bob").doesNotContain("support");
    try (Conversation c = MailClient.implicitTls(search.port("imaps"), search.tls())) {
      c.expect("* OK");
      c.send("a LOGIN \"dave*support\" support-pw\r\n");
      assertThat(c.expect("a NO")).contains("[CONTACTADMIN] " + DISABLED_TEXT);
      c.send("b LOGIN \"mallory*support\" support-pw\r\n");
      assertThat(c.expect("b NO")).contains("[AUTHENTICATIONFAILED]");
    }
  }

  @Test
  @Order(6)
  void theServerCertificateShouldBeCheckedAgainstTheCaAndTheHostName() throws Exception {
    LdapConfig byAddress = new LdapConfig(List.of("ldaps://127.0.0.1:" + slapd.ldapsPort()),
        false, ca, null, LdapConfig.DEFAULT_FILTER, "uid=%u," + SlapdServer.PEOPLE, null,
        null, LdapConfig.DEFAULT_DISABLED_REASON, 1, Duration.ofSeconds(2));
    LdapConfig systemCas = new LdapConfig(List.of("ldaps://localhost:" + slapd.ldapsPort()),
        false, null, null, LdapConfig.DEFAULT_FILTER, "uid=%u," + SlapdServer.PEOPLE, null,
        null, LdapConfig.DEFAULT_DISABLED_REASON, 1, Duration.ofSeconds(2));
    Map<LdapConfig, String> why = Map.of(byAddress, "No subject alternative names matching IP"
        + " address 127.0.0.1", systemCas, "unable to find valid certification path");
    for (LdapConfig config : List.of(byAddress, systemCas)) {
      LdapAuthenticator ldap = LdapAuthenticator.create(direct.vertx(), config);
      try {
        AuthResult result = ldap.authenticate(new AuthRequest(Protocol.IMAP, "login",
            new Credentials("alice", Secret.of("alice-pw")), "127.0.0.1", null, null, 1)).await();
        assertThat(result).as(config.urls().toString())
            .isInstanceOf(AuthResult.Unavailable.class);
        assertThat(((AuthResult.Unavailable) result).why()).contains(why.get(config));
      } finally {
        ldap.close().await();
      }
    }
  }

  @Test
  @Order(7)
  void withEveryServerDownClientsShouldBeToldToTryAgainButTheCacheAndLoginsComeBack()
      throws Exception {
    slapd.stop();
    ProcessResult imap = python(search, "alice", "alice-pw", true);
    assertThat(imap.exitCode()).as("%s", imap).isZero();
    assertThat(imap.stdout()).contains("[UNAVAILABLE]");
    ProcessResult curl = Clients.curl(CLIENT_TIMEOUT, "-v", "--cacert",
        direct.tls().certPath().toString(), "-u", "alice:alice-pw",
        "pop3s://localhost:" + direct.port("pop3s") + "/1");
    assertThat(curl.exitCode()).as("%s", curl).isNotZero();
    assertThat(curl.stderr()).contains("-ERR [SYS/TEMP]");
    // The auth cache applies: alice's IMAP login of the first test is still known.
    ProcessResult cached = curl(direct, "alice", "alice-pw");
    assertThat(cached.exitCode()).as("%s", cached).isZero();
    assertThat(direct.server().resources().authenticator().ready()
        .transform(ar -> io.vertx.core.Future.succeededFuture(ar.succeeded())).await())
        .isFalse();

    slapd.restart();
    ProcessResult back = Clients.curl(CLIENT_TIMEOUT, "--cacert",
        direct.tls().certPath().toString(), "-u", "alice:alice-pw",
        "pop3s://localhost:" + direct.port("pop3s") + "/1");
    assertThat(back.exitCode()).as("%s", back).isZero();
    assertThat(back.stdout()).contains("Subject: for alice");
  }
}
