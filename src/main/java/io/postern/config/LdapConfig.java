package io.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code auth.ldap}: the LDAP directory that checks users (auth.source: ldap).
 *
 * <p>{@code urls} ({@code ldap://} or {@code ldaps://}, host and port only) are tried in order;
 * {@code startTls} upgrades the {@code ldap://} ones. {@code ca} (PEM) verifies the servers'
 * certificates, null meaning the system's CAs; host names are always checked.
 *
 * <p>Two ways to find the user: with a {@code bindDn} template holding {@code %u} (or
 * {@code %n}, {@code %d}), Postern binds as that DN directly; otherwise it searches
 * {@code base} for {@code filter} as {@code bindDn} with the password in
 * {@code bindPasswordFile} (both null: an anonymous search), then binds as the entry found.
 *
 * <p>{@code attributes} name the entry's attributes that route the user; {@code poolSize}
 * connections are kept per server (and per use: searches and users' binds); {@code timeout}
 * bounds each connect and each operation.
 */
public record LdapConfig(List<String> urls, boolean startTls, Path ca, String base, String filter,
    String bindDn, Path bindPasswordFile, Attributes attributes, String disabledReason,
    int poolSize, Duration timeout) {

  public static final String DEFAULT_FILTER = "(uid=%u)";
  public static final String DEFAULT_DISABLED_REASON = "This account is disabled.";
  public static final int DEFAULT_POOL_SIZE = 8;
  public static final int MAX_POOL_SIZE = 256;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);

  public LdapConfig {
    urls = List.copyOf(urls);
    attributes = attributes == null ? Attributes.NONE : attributes;
  }

  /** Whether users are bound directly through the {@code bindDn} template (no search). */
  public boolean directBind() {
    return bindDn != null && isTemplate(bindDn);
  }

  /** Whether {@code text} names the user with {@code %u}, {@code %n} or {@code %d}. */
  public static boolean isTemplate(String text) {
    return text.contains("%u") || text.contains("%n") || text.contains("%d");
  }

  /**
   * The attributes of the user's entry that route it, each null when not used: {@code backend}
   * (a backend's name), {@code host} ({@code host} or {@code host:port} of the user's server),
   * {@code user} (the name to log in with at the backend), {@code disabled} (any value but
   * FALSE, false, no or 0 disables the account).
   */
  public record Attributes(String backend, String host, String user, String disabled) {
    public static final Attributes NONE = new Attributes(null, null, null, null);

    /** The ones in use, for the search's attribute list. */
    public List<String> named() {
      return java.util.stream.Stream.of(backend, host, user, disabled)
          .filter(java.util.Objects::nonNull).distinct().toList();
    }
  }
}
