package io.postern.auth;

import com.unboundid.ldap.sdk.Entry;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import io.postern.backend.Route;
import io.postern.config.LdapConfig;
import io.postern.config.PosternConfig;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One login at one LDAP server: find the entry (a {@code bind-dn} template, or a search as the
 * service account), bind as it with the user's password, and turn its attributes into the
 * answer; or, for a master login's customer, the search alone ({@link #lookup}). An
 * {@link LDAPException} out of here means the server failed, not the user: the next server is
 * asked. Blocking.
 */
final class LdapEntryAnswer {

  private static final Logger LOG = LoggerFactory.getLogger(LdapEntryAnswer.class);

  /** The result codes of a bind that refuse these credentials (not a failing server). */
  private static final Set<ResultCode> REFUSED = Set.of(ResultCode.INVALID_CREDENTIALS,
      ResultCode.INAPPROPRIATE_AUTHENTICATION, ResultCode.INVALID_DN_SYNTAX,
      ResultCode.UNWILLING_TO_PERFORM);
  /** Values of the {@code disabled} attribute that leave the account enabled. */
  private static final Set<String> ENABLED = Set.of("false", "no", "0");
  /** Printable ASCII without spaces (a backend's or user's name from the directory). */
  private static final String SAFE = "[\\x21-\\x7e]{1,255}";

  private final LdapConfig config;
  private final String[] attributes;
  private final boolean readEntry;
  private final int timeLimitSeconds;

  LdapEntryAnswer(LdapConfig config) {
    this.config = config;
    this.attributes = config.attributes().named().isEmpty() ? new String[] {"1.1"}
        : config.attributes().named().toArray(String[]::new);
    // After a direct bind the entry is read only when something in it matters.
    this.readEntry = !config.attributes().named().isEmpty()
        || !LdapConfig.DEFAULT_FILTER.equals(config.filter());
    this.timeLimitSeconds = (int) Math.max(1, config.timeout().toSeconds());
  }

  /** A user whose password is right but whose entry cannot route them (not the server's fault). */
  static final class Unroutable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unroutable(String why) {
      super(why, null, false, false);
    }
  }

  AuthResult check(LdapServer server, Credentials credentials) throws LDAPException {
    try {
      return find(server, credentials);
    } catch (Unroutable e) {
      LOG.warn("ldap: {}", e.getMessage());
      return new AuthResult.Unavailable(e.getMessage());
    }
  }

  private AuthResult find(LdapServer server, Credentials credentials) throws LDAPException {
    Entry entry;
    if (config.directBind()) {
      String filter = LdapTemplate.filter(config.filter(), credentials.user());
      String dn = LdapTemplate.dn(config.bindDn(), credentials.user());
      entry = server.bind(connection -> {
        if (!bind(connection, dn, credentials)) {
          return null;
        }
        if (!readEntry) {
          return new Entry(dn);
        }
        SearchRequest read = new SearchRequest(dn, SearchScope.BASE, Filter.create(
            LdapConfig.DEFAULT_FILTER.equals(config.filter()) ? "(objectClass=*)" : filter),
            attributes);
        read.setTimeLimitSeconds(timeLimitSeconds);
        Entry own;
        try {
          own = connection.searchForEntry(read);
        } catch (LDAPException e) {
          if (e.getResultCode() != ResultCode.NO_SUCH_OBJECT
              && e.getResultCode() != ResultCode.INSUFFICIENT_ACCESS_RIGHTS) {
            throw e;
          }
          own = null;
        }
        if (own == null && LdapConfig.DEFAULT_FILTER.equals(config.filter())) {
          // This user's entry, not the server: the server stays in use for everybody else.
          throw new Unroutable("user " + printable(credentials.user()) + " may not read"
              + " their own entry " + dn + " to be routed");
        }
        // With a filter of the operator's, no entry means the filter refuses this user.
        return own;
      });
    } else {
      Entry found = search(server, credentials.user());
      entry = found == null ? null : server.bind(connection ->
          bind(connection, found.getDN(), credentials) ? found : null);
    }
    return entry == null ? AuthResult.Rejected.badCredentials()
        : answer(entry, credentials.user(), credentials.password());
  }

  /**
   * A userdb-style lookup for master logins: the search as the service account (or anonymous),
   * no bind, so no password is checked and none is handed on. Only for a search configuration:
   * a direct bind has no way to find an entry without the user's password.
   */
  AuthResult lookup(LdapServer server, String user) throws LDAPException {
    Entry found = search(server, user);
    return found == null ? new AuthResult.Rejected(null, Duration.ZERO, "unknown user")
        : answer(found, user, null);
  }

  /** The user's one entry under {@code base} (null: none, or several), as the service account. */
  private Entry search(LdapServer server, String user) throws LDAPException {
    SearchRequest search = new SearchRequest(config.base(), SearchScope.SUB,
        Filter.create(LdapTemplate.filter(config.filter(), user)), attributes);
    search.setSizeLimit(2);
    search.setTimeLimitSeconds(timeLimitSeconds);
    return server.search(connection -> find(connection, search, user));
  }

  /** The one entry the search finds; null for none (or several: no guess who is meant). */
  private static Entry find(com.unboundid.ldap.sdk.LDAPConnection connection,
      SearchRequest search, String user) throws LDAPException {
    SearchResult result;
    try {
      result = connection.search(search);
    } catch (LDAPException e) {
      if (e.getResultCode() == ResultCode.SIZE_LIMIT_EXCEEDED) {
        LOG.warn("ldap: the filter finds more than one entry for user {}; none is used",
            printable(user));
        return null;
      }
      if (e.getResultCode() == ResultCode.NO_SUCH_OBJECT) {
        LOG.warn("ldap: the search base {} does not exist", search.getBaseDN());
        return null;
      }
      throw e;
    }
    return result.getEntryCount() == 1 ? result.getSearchEntries().get(0) : null;
  }

  /** A bind as {@code dn}: false when the server refuses the credentials. */
  private static boolean bind(com.unboundid.ldap.sdk.LDAPConnection connection, String dn,
      Credentials credentials) throws LDAPException {
    byte[] password = credentials.password().bytes();
    if (password.length == 0) {
      // Checked before already; an empty password would be an anonymous bind.
      return false;
    }
    try {
      connection.bind(new SimpleBindRequest(dn, password));
      return true;
    } catch (LDAPException e) {
      if (REFUSED.contains(e.getResultCode())) {
        return false;
      }
      throw e;
    } finally {
      java.util.Arrays.fill(password, (byte) 0);
    }
  }

  /**
   * The answer for {@code user}'s entry: the directory accepted the password (handed on to the
   * backend), or a lookup found the entry ({@code password} null).
   */
  private AuthResult answer(Entry entry, String user, Secret password) {
    LdapConfig.Attributes names = config.attributes();
    if (names.disabled() != null) {
      String[] values = entry.getAttributeValues(names.disabled());
      if (values != null) {
        for (String value : values) {
          if (!ENABLED.contains(value.trim().toLowerCase(Locale.ROOT))) {
            return new AuthResult.Rejected(config.disabledReason(), Duration.ZERO,
                "entry " + entry.getDN() + " is disabled by " + names.disabled());
          }
        }
      }
    }
    String backend = value(entry, names.backend());
    String backendUser = value(entry, names.user());
    String hostValue = value(entry, names.host());
    if (backend != null && !backend.matches(SAFE)
        || backendUser != null && !backendUser.matches(SAFE)) {
      return malformed(entry, names.backend() + " or " + names.user());
    }
    Route route = Route.to(backend == null ? PosternConfig.DEFAULT_BACKEND : backend);
    if (hostValue != null) {
      HostPort host = HostPort.parse(hostValue);
      if (host == null) {
        return malformed(entry, names.host());
      }
      route = new Route(route.backend(), host.host(), host.port(), null);
    }
    return new AuthResult.Accepted(route, backendUser == null ? user : backendUser, password);
  }

  private static AuthResult malformed(Entry entry, String attribute) {
    // The directory's data for one user, not the server: the user cannot be routed now.
    return new AuthResult.Unavailable("LDAP entry " + entry.getDN() + " has a malformed "
        + attribute);
  }

  private static String value(Entry entry, String attribute) {
    if (attribute == null) {
      return null;
    }
    String value = entry.getAttributeValue(attribute);
    return value == null || value.isBlank() ? null : value.trim();
  }

  private static String printable(String text) {
    return text.replaceAll("[^\\x20-\\x7e]", "?");
  }

  /** {@code host}, {@code host:port} or {@code [v6]:port}; port null when not given. */
  record HostPort(String host, Integer port) {
    static HostPort parse(String text) {
      String host = text;
      Integer port = null;
      if (text.startsWith("[")) {
        int close = text.indexOf(']');
        if (close < 0) {
          return null;
        }
        host = text.substring(1, close);
        String rest = text.substring(close + 1);
        if (!rest.isEmpty()) {
          if (!rest.startsWith(":")) {
            return null;
          }
          port = port(rest.substring(1));
          if (port == null) {
            return null;
          }
        }
      } else if (text.indexOf(':') >= 0 && text.indexOf(':') == text.lastIndexOf(':')) {
        host = text.substring(0, text.indexOf(':'));
        port = port(text.substring(text.indexOf(':') + 1));
        if (port == null) {
          return null;
        }
      }
      return host.matches("[A-Za-z0-9._:-]{1,253}") ? new HostPort(host, port) : null;
    }

    private static Integer port(String text) {
      if (!text.matches("[0-9]{1,5}")) {
        return null;
      }
      int port = Integer.parseInt(text);
      return port >= 1 && port <= 65535 ? port : null;
    }
  }
}
