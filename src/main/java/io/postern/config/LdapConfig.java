package io.postern.config;

import java.util.List;

/** {@code auth.ldap}: the LDAP directory that checks users (auth.source: ldap). */
public record LdapConfig(List<String> urls) {

  public LdapConfig {
    urls = List.copyOf(urls);
  }
}
