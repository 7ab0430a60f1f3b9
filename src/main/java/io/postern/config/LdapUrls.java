package io.postern.config;

import java.net.URI;
import java.net.URISyntaxException;

/** The {@code auth.ldap.url} values: {@code ldap://host[:port]} or {@code ldaps://host[:port]}. */
public final class LdapUrls {

  private static final int LDAP_PORT = 389;
  private static final int LDAPS_PORT = 636;

  /** One server: {@code secure} for {@code ldaps://} (TLS from the first byte). */
  public record Server(String url, String host, int port, boolean secure) {}

  private LdapUrls() {}

  /** Why {@code url} cannot name an LDAP server, or null. */
  public static String problem(String url) {
    try {
      parse(url);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /** The server {@code url} names; IllegalArgumentException (a reason) when it names none. */
  public static Server parse(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("is not a URL");
    }
    boolean secure = "ldaps".equalsIgnoreCase(uri.getScheme());
    if (!secure && !"ldap".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("must be an ldap:// or ldaps:// URL");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("must name a host, e.g. ldaps://ldap1.example.org");
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null
        || uri.getRawPath() != null && !uri.getRawPath().isEmpty()
        && !uri.getRawPath().equals("/")) {
      throw new IllegalArgumentException("must hold only a host and a port; the base DN and the"
          + " filter are auth.ldap.base and auth.ldap.filter");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort() == -1 ? secure ? LDAPS_PORT : LDAP_PORT : uri.getPort();
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("has no valid port");
    }
    return new Server(url, host, port, secure);
  }

  /** {@code template} with a sample user, to check that it makes a valid DN or filter. */
  static String sample(String template) {
    return template.replace("%u", "user@example.org").replace("%n", "user")
        .replace("%d", "example.org");
  }
}
