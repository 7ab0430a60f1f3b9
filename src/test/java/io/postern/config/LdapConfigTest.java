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

/** {@code auth.ldap} as the configuration file gives it, and the errors an operator sees. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LdapConfigTest {

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
  void aSearchWithAServiceAccountShouldBeReadWithEveryKey() throws Exception {
    LdapConfig ldap = load("""
        auth:
          source: ldap
          ldap:
            url: ldaps://ldap1.example.org ldap://ldap2.example.org:1389
            start-tls: true
            ca: conf/ldap-ca.pem
            base: ou=people,dc=example,dc=org
            filter: (&(mail=%u)(objectClass=inetOrgPerson))
            bind-dn: cn=postern,dc=example,dc=org
            bind-password-file: conf/ldap.secret
            attributes: { backend: mailBackend, host: mailHost, user: mailUser, disabled: nsAccountLock }
            disabled-reason: Your mailbox is locked; call support.
            pool-size: 4
            timeout: 2s
        """).auth().ldap();
    assertThat(ldap.urls()).containsExactly("ldaps://ldap1.example.org",
        "ldap://ldap2.example.org:1389");
    assertThat(ldap.startTls()).isTrue();
    assertThat(ldap.ca()).isEqualTo(Path.of("conf/ldap-ca.pem"));
    assertThat(ldap.directBind()).isFalse();
    assertThat(ldap.bindPasswordFile()).isEqualTo(Path.of("conf/ldap.secret"));
    assertThat(ldap.attributes()).isEqualTo(new LdapConfig.Attributes("mailBackend", "mailHost",
        "mailUser", "nsAccountLock"));
    assertThat(ldap.disabledReason()).isEqualTo("Your mailbox is locked; call support.");
    assertThat(ldap.poolSize()).isEqualTo(4);
    assertThat(ldap.timeout()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aBindDnTemplateShouldNeedNoBaseAndTakeAListOfUrls() throws Exception {
    LdapConfig ldap = load("""
        auth:
          source: ldap
          ldap:
            url: [ "ldaps://a.example.org", "ldaps://b.example.org:10636/" ]
            bind-dn: uid=%n,ou=%d,dc=example,dc=org
        """).auth().ldap();
    assertThat(ldap.directBind()).isTrue();
    assertThat(ldap.urls()).hasSize(2);
    assertThat(ldap.filter()).isEqualTo(LdapConfig.DEFAULT_FILTER);
    assertThat(ldap.poolSize()).isEqualTo(LdapConfig.DEFAULT_POOL_SIZE);
    assertThat(ldap.timeout()).isEqualTo(LdapConfig.DEFAULT_TIMEOUT);
    assertThat(ldap.attributes()).isEqualTo(LdapConfig.Attributes.NONE);
  }

  @Test
  void anotherSourceShouldLeaveTheLdapSettingsUnused() throws Exception {
    assertThat(load("auth: { ldap: { url: ldap://x, base: dc=x } }\n").auth().ldap()).isNull();
  }

  @Test
  void badUrlsShouldBeNamedWithTheirKey() {
    assertThat(errors("auth: { source: ldap, ldap: { base: dc=x } }\n"))
        .containsExactly("auth.ldap.url: needs at least one ldap:// or ldaps:// URL");
    assertThat(errors("""
        auth: { source: ldap, ldap: { base: dc=x, url: "http://a ldap:///x ldaps://h/dc=x ldap://u@h" } }
        """)).containsExactly(
        "auth.ldap.url: 'http://a' must be an ldap:// or ldaps:// URL",
        "auth.ldap.url: 'ldap:///x' must name a host, e.g. ldaps://ldap1.example.org",
        "auth.ldap.url: 'ldaps://h/dc=x' must hold only a host and a port; the base DN and the"
            + " filter are auth.ldap.base and auth.ldap.filter",
        "auth.ldap.url: 'ldap://u@h' must hold only a host and a port; the base DN and the"
            + " filter are auth.ldap.base and auth.ldap.filter");
    assertThat(errors(
        "auth: { source: ldap, ldap: { base: dc=x, url: ldaps://h, start-tls: true } }\n"))
        .containsExactly("auth.ldap.start-tls: applies to ldap:// URLs, and every URL is ldaps://");
  }

  @Test
  void theWayToFindUsersShouldBeWhole() {
    assertThat(errors("auth: { source: ldap, ldap: { url: ldaps://h } }\n"))
        .containsExactly("auth.ldap.base: is required to search for users (or give a bind-dn"
            + " with %u)");
    assertThat(errors("auth: { source: ldap, ldap: { url: ldaps://h, base: dc=x,"
        + " bind-dn: \"cn=svc,dc=x\" } }\n"))
        .containsExactly("auth.ldap.bind-password-file: is required with a service account's"
            + " bind-dn (a bind-dn without %u)");
    assertThat(errors("auth: { source: ldap, ldap: { url: ldaps://h, bind-dn: \"uid=%u,dc=x\","
        + " bind-password-file: s } }\n"))
        .containsExactly("auth.ldap.bind-password-file: is for a service account's bind-dn; a"
            + " bind-dn with %u binds as the user with the user's own password");
    assertThat(errors("auth: { source: ldap, ldap: { url: ldaps://h, base: dc=x,"
        + " bind-password-file: s } }\n"))
        .containsExactly("auth.ldap.bind-dn: is required with bind-password-file");
    assertThat(errors("auth: { source: ldap, ldap: { url: ldaps://h, base: \"not a dn\","
        + " filter: \"(uid=x)\" } }\n")).containsExactly(
        "auth.ldap.base: is not a DN (e.g. ou=people,dc=example,dc=org)",
        "auth.ldap.filter: must name the user with %u (or %n, %d)");
    assertThat(errors("auth: { source: ldap, ldap: { url: ldaps://h, base: dc=x,"
        + " filter: \"(uid=%u\" } }\n")).singleElement().asString()
        .startsWith("auth.ldap.filter: is not an LDAP filter (e.g. (uid=%u)): ");
  }

  @Test
  void attributesAndLimitsShouldBeChecked() {
    assertThat(errors("""
        auth:
          source: ldap
          ldap:
            url: ldaps://h
            bind-dn: "uid=%u,dc=x"
            attributes: { backend: "mail backend", colour: x }
            pool-size: 0
            timeout: 0s
            disabled-reason: ""
            extra: 1
        """)).containsExactlyInAnyOrder(
        "auth.ldap.attributes.backend: must be an attribute's name, e.g. mailHost (is 'mail"
            + " backend')",
        "auth.ldap.attributes.colour: unknown key",
        "auth.ldap.pool-size: must be between 1 and 256 (is 0)",
        "auth.ldap.timeout: must be longer than zero",
        "auth.ldap.disabled-reason: must be 1 to 200 printable ASCII characters",
        "auth.ldap.extra: unknown key");
  }
}
