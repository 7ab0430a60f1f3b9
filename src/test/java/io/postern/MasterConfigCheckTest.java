package io.postern;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --check-config} on {@code auth.master} and {@code backends.<name>.master}. */
class MasterConfigCheckTest {

  @TempDir
  Path dir;

  private Path masters;
  private Path backendPass;

  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Postern.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @BeforeEach
  void files() throws Exception {
    Files.writeString(dir.resolve("users.passwd"), "alice:{PLAIN}secret\nbob:{PLAIN}pw\n");
    masters = dir.resolve("masters.passwd");
    Files.writeString(masters, "support:{PLAIN}support-pw\n");
    backendPass = dir.resolve("backend-master.pass");
    Files.writeString(backendPass, "backend-secret\n");
    Files.setPosixFilePermissions(backendPass, PosixFilePermissions.fromString("rw-------"));
  }

  private Run check(String master, String backendMaster) throws Exception {
    return check("source: passwd-file", master, backendMaster);
  }

  /** {@code source}: the lines of {@code auth} that choose and set up the source. */
  private Run check(String source, String master, String backendMaster) throws Exception {
    TestTls tls = TestTls.shared("localhost");
    Path file = dir.resolve("postern.yaml");
    Files.writeString(file, """
        listeners:
          - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }
        tls: { certificates: [ { cert: %s, key: %s } ] }
        auth:
          %s
          passwd-file: %s
          master: %s
        backends:
          default:
            host: 127.0.0.1
            master: %s
        """.formatted(tls.certPath(), tls.keyPath(), source, dir.resolve("users.passwd"),
        master,
        backendMaster));
    return run("--config", file.toString(), "--check-config");
  }

  /** {@code auth.source: ldap} finding users with {@code bindDn} (a template or an account). */
  private String ldap(String bindDn) throws Exception {
    Path secret = dir.resolve("ldap.secret");
    Files.writeString(secret, "service-pw\n");
    return "source: ldap\n  ldap: { url: ldaps://ldap.example.org, base: \"ou=people,dc=example,"
        + "dc=org\", bind-dn: \"" + bindDn + "\""
        + (bindDn.contains("%u") ? "" : ", bind-password-file: " + secret) + " }";
  }

  private String backendMaster() {
    return "{ user: postern-master, password-file: " + backendPass + " }";
  }

  @Test
  void aCompleteMasterConfigurationShouldBeValid() throws Exception {
    Run r = check("{ separator: '*', passwd-file: " + masters + " }", backendMaster());
    assertThat(r.err()).isEmpty();
    assertThat(r.status()).isZero();
    // The users are the customers; the master file's users are not counted among them.
    assertThat(r.out()).contains("1 backend, 2 users");
    // The separator has a default.
    assertThat(check("{ passwd-file: " + masters + " }", backendMaster()).status()).isZero();
  }

  @Test
  void noMasterSectionShouldMeanNoMasterUsers() throws Exception {
    assertThat(check("null", "null").status()).isZero();
    assertThat(check("null", backendMaster()).status()).isZero();
  }

  @Test
  void mistakesShouldBeReportedWithTheirKeys() throws Exception {
    Run r = check("{ separator: '', passwd-fle: x }", "{ password-file: " + backendPass + " }");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("auth.master.separator: must not be empty")
        .contains("auth.master.passwd-file: is required")
        .contains("auth.master.passwd-fle: unknown key")
        .contains("backends.default.master.user: is required");

    r = check("{ separator: 'a b', passwd-file: " + masters + " }", backendMaster());
    assertThat(r.err()).contains("auth.master.separator: must be printable characters other"
        + " than space");
  }

  @Test
  void masterUsersWithASourceThatCannotFindCustomersShouldBeAnError() throws Exception {
    Run r = check("source: http", "{ passwd-file: " + masters + " }", backendMaster());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("auth.master: needs auth.source passwd-file or ldap (searching"
        + " as a service account): the auth_http protocol of auth.source http has no way to find"
        + " a customer");

    r = check("source: oauth2\n  oauth2: { jwks-url: https://id.example.org/jwks, issuer:"
        + " https://id.example.org, audience: imap }", "{ passwd-file: " + masters + " }",
        backendMaster());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("auth.master: needs auth.source passwd-file or ldap")
        .contains("auth.source oauth2 checks tokens and cannot find a customer by name");
  }

  @Test
  void masterUsersWithLdapShouldNeedTheServiceAccountsSearch() throws Exception {
    Run r = check(ldap("cn=postern,dc=example,dc=org"), "{ passwd-file: " + masters + " }",
        backendMaster());
    assertThat(r.err()).doesNotContain("auth.master");
    assertThat(r.status()).as(r.err()).isZero();

    // Binding as the user finds nobody without the user's password.
    r = check(ldap("uid=%u,ou=people,dc=example,dc=org"), "{ passwd-file: " + masters + " }",
        backendMaster());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("auth.master: needs auth.ldap.bind-dn of a service account"
        + " (with bind-password-file, base and filter) to search for the customer: a bind-dn"
        + " with %u ('uid=%u,ou=people,dc=example,dc=org') binds as the user");
    // Without master users, the direct bind is fine.
    assertThat(check(ldap("uid=%u,ou=people,dc=example,dc=org"), "null", backendMaster())
        .status()).isZero();
  }

  @Test
  void masterUsersWithoutAnyBackendMasterShouldBeAnError() throws Exception {
    Run r = check("{ passwd-file: " + masters + " }", "null");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("auth.master: no backend has a master user");
  }

  @Test
  void unreadableFilesShouldBeReportedWithTheirKeysAndNoSecret() throws Exception {
    Run r = check("{ passwd-file: " + dir.resolve("missing.passwd") + " }",
        "{ user: postern-master, password-file: " + dir.resolve("missing.pass") + " }");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("backends.default.master.password-file: cannot read "
        + dir.resolve("missing.pass"));

    Files.writeString(backendPass, "   \n");
    r = check("{ passwd-file: " + masters + " }", backendMaster());
    assertThat(r.err()).contains("backends.default.master.password-file: " + backendPass
        + " is empty");

    Files.writeString(backendPass, "backend-secret\n");
    r = check("{ passwd-file: " + dir.resolve("missing.passwd") + " }", backendMaster());
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("auth.master.passwd-file: " + dir.resolve("missing.passwd")
        + " does not exist");

    Files.writeString(masters, "support:{PLAIN}support-pw\nbroken\n");
    r = check("{ passwd-file: " + masters + " }", backendMaster());
    assertThat(r.err()).contains("auth.master.passwd-file: " + masters + ":2");
    assertThat(r.err() + r.out()).doesNotContain("backend-secret").doesNotContain("support-pw");
  }
}
