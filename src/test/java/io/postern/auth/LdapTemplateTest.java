package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A user name can never change the filter or the DN it is put into. */
class LdapTemplateTest {

  @Test
  void filterMetacharactersShouldBeEscapedAsRfc4515Says() {
    assertThat(LdapTemplate.filter("(uid=%u)", "*")).isEqualTo("(uid=\\2a)");
    assertThat(LdapTemplate.filter("(uid=%u)", "a)(uid=*")).isEqualTo("(uid=a\\29\\28uid=\\2a)");
    assertThat(LdapTemplate.filter("(uid=%u)", "back\\slash")).isEqualTo("(uid=back\\5cslash)");
    assertThat(LdapTemplate.filter("(uid=%u)", "nul\0byte")).isEqualTo("(uid=nul\\00byte)");
  }

  @Test
  void localPartAndDomainShouldBeSplitAtTheLastAt() {
    assertThat(LdapTemplate.filter("(&(uid=%n)(o=%d)(mail=%u))", "a@b@example.org"))
        .isEqualTo("(&(uid=a@b)(o=example.org)(mail=a@b@example.org))");
    assertThat(LdapTemplate.filter("(&(uid=%n)(o=%d))", "alice"))
        .isEqualTo("(&(uid=alice)(o=))");
    assertThat(LdapTemplate.filter("(uid=%u%%)", "x")).isEqualTo("(uid=x%)");
  }

  @Test
  void dnSpecialsShouldBeEscapedAsRfc4514Says() {
    assertThat(LdapTemplate.dn("uid=%u,ou=people,dc=example,dc=org", "a,ou=admins"))
        .isEqualTo("uid=a\\,ou\\=admins,ou=people,dc=example,dc=org");
    assertThat(LdapTemplate.dn("uid=%u,dc=x", "+\"\\<>;"))
        .isEqualTo("uid=\\+\\\"\\\\\\<\\>\\;,dc=x");
    assertThat(LdapTemplate.dn("uid=%u,dc=x", " #lead trail "))
        .isEqualTo("uid=\\ #lead trail\\ ,dc=x");
    assertThat(LdapTemplate.dn("uid=%u,dc=x", "#x")).isEqualTo("uid=\\#x,dc=x");
    assertThat(LdapTemplate.dn("uid=%u,dc=x", "nul\0")).isEqualTo("uid=nul\\00,dc=x");
  }
}
