package io.postern.auth;

import io.netty.util.NetUtil;
import io.postern.backend.Route;
import io.postern.config.PosternConfig;
import io.postern.config.TlsMode;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads an nginx {@code auth_http} answer: {@code Auth-Status} {@code OK} (with
 * {@code Auth-Server}, {@code Auth-Port}, optional {@code Auth-User}/{@code Auth-Pass}, and
 * Postern's {@code Auth-Backend} and {@code Auth-Server-TLS}), {@code WAIT}, or an error text
 * (with an optional {@code Auth-Wait}). Anything else is malformed: a temporary failure, never a
 * login.
 */
sealed interface AuthHttpAnswer {

  /** Longest wait a service may ask for; a bigger number is taken as this. */
  Duration MAX_WAIT = Duration.ofSeconds(60);

  Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?");

  /** Log in as the service says. */
  record Ok(AuthResult.Accepted accepted) implements AuthHttpAnswer {}

  /** Wrong credentials; the reply waits {@code delay} more. {@code text} is for the log. */
  record Failed(String text, Duration delay) implements AuthHttpAnswer {}

  /** Ask again after {@code delay}. */
  record Wait(Duration delay) implements AuthHttpAnswer {}

  /** Not an answer; {@code why} is for the log and names no secret. */
  record Malformed(String why) implements AuthHttpAnswer {}

  static AuthHttpAnswer parse(MultiMap headers, Credentials credentials, Set<String> backends) {
    return parse(headers, credentials, BackendCredentials.Mechanism.PASSWORD, backends);
  }

  /**
   * {@code secret} says what the client's secret is. For a bearer token, an answer with
   * {@code Auth-Pass} is logged in at the backend with that password; one without replays the
   * token with the client's mechanism. Either way {@code Auth-User}, when given, is who logged
   * in (the service names the user from the token).
   */
  static AuthHttpAnswer parse(MultiMap headers, Credentials credentials,
      BackendCredentials.Mechanism secret, Set<String> backends) {
    String status = status(headers.getAll("Auth-Status"));
    if (status == null) {
      return new Malformed("no Auth-Status header");
    }
    String repeated = repeated(headers);
    if (repeated != null && status.equals("OK")) {
      return new Malformed(repeated + " given twice with different values");
    }
    Duration wait;
    try {
      wait = seconds(headers.get("Auth-Wait"));
    } catch (NumberFormatException e) {
      return new Malformed("Auth-Wait is not a number of seconds");
    }
    if (status.equals("WAIT")) {
      return new Wait(wait.isZero() ? Duration.ofSeconds(1) : wait);
    }
    if (!status.equals("OK")) {
      return new Failed(status, wait);
    }
    return ok(headers, credentials, secret, backends);
  }

  /**
   * The status; with several, an error text before {@code WAIT} before {@code OK}, so that a
   * yes next to a no is a no, as with nginx (which fails a login once any {@code Auth-Status}
   * was an error).
   */
  private static String status(List<String> values) {
    String status = null;
    for (String v : values) {
      String t = v.trim();
      if (status == null || rank(t) > rank(status)) {
        status = t;
      }
    }
    return status;
  }

  private static int rank(String status) {
    return switch (status) {
      case "OK" -> 0;
      case "WAIT" -> 1;
      default -> 2;
    };
  }

  /**
   * The first other {@code Auth-} header given twice with different values, or null. nginx keeps
   * the last one; which of two servers or users was meant cannot be known, so neither is used.
   */
  private static String repeated(MultiMap headers) {
    for (String name : headers.names()) {
      if (!name.regionMatches(true, 0, "Auth-", 0, 5) || name.equalsIgnoreCase("Auth-Status")) {
        continue;
      }
      List<String> values = headers.getAll(name);
      for (String v : values) {
        if (!v.trim().equals(values.get(0).trim())) {
          return name;
        }
      }
    }
    return null;
  }

  private static AuthHttpAnswer ok(MultiMap headers, Credentials credentials,
      BackendCredentials.Mechanism secret, Set<String> backends) {
    String backend = headers.get("Auth-Backend");
    if (backend != null && !backends.contains(backend.trim())) {
      return new Malformed("Auth-Backend names no configured backend");
    }
    TlsMode tls = null;
    String tlsHeader = headers.get("Auth-Server-TLS");
    if (tlsHeader != null) {
      tls = TlsMode.parse(tlsHeader.trim());
      if (tls == null) {
        return new Malformed("Auth-Server-TLS is not none, starttls or implicit");
      }
    }
    String server = headers.get("Auth-Server");
    String portHeader = headers.get("Auth-Port");
    Integer port = null;
    if (portHeader != null) {
      try {
        port = Integer.parseInt(portHeader.trim());
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        return new Malformed("Auth-Port is not a port number");
      }
    }
    if (server != null) {
      server = server(server.trim());
      if (server == null) {
        return new Malformed("Auth-Server is not a host name or address");
      }
      if (port == null) {
        return new Malformed("Auth-Server without Auth-Port");
      }
      // As with nginx, a server the answer names is reached in plaintext unless it says more.
      if (tls == null && backend == null) {
        tls = TlsMode.NONE;
      }
    }
    String user = credentials.user();
    String userHeader = headers.get("Auth-User");
    if (userHeader != null) {
      byte[] raw = userHeader.getBytes(StandardCharsets.ISO_8859_1);
      if (unsafe(raw) || raw.length == 0) {
        return new Malformed("Auth-User is empty or holds a control character");
      }
      user = new String(raw, StandardCharsets.UTF_8);
    }
    Secret password = credentials.password();
    String passHeader = headers.get("Auth-Pass");
    if (passHeader != null) {
      byte[] raw = passHeader.getBytes(StandardCharsets.ISO_8859_1);
      if (unsafe(raw)) {
        return new Malformed("Auth-Pass holds a control character");
      }
      password = Secret.of(raw);
    }
    Route route = new Route(backend != null ? backend.trim() : PosternConfig.DEFAULT_BACKEND,
        server, port, tls);
    if (secret == BackendCredentials.Mechanism.PASSWORD) {
      return new Ok(new AuthResult.Accepted(route, user, password));
    }
    if (passHeader == null) {
      // No password to use instead: the backend gets the token, with the client's mechanism.
      return new Ok(new AuthResult.Accepted(route, user, password, secret, null, userHeader == null
          ? null : user));
    }
    if (user.isEmpty()) {
      return new Malformed("Auth-Pass for a token without Auth-User to log in as");
    }
    return new Ok(new AuthResult.Accepted(route, user, password,
        BackendCredentials.Mechanism.PASSWORD, null, userHeader == null ? null : user));
  }

  /**
   * A host name, an IPv4 address, or an IPv6 address bare or in brackets (returned without
   * them); null for anything else, such as {@code host:port} or an unbalanced bracket.
   */
  private static String server(String value) {
    String inner = value;
    if (value.startsWith("[") || value.endsWith("]")) {
      if (!value.startsWith("[") || !value.endsWith("]") || value.length() < 4) {
        return null;
      }
      inner = value.substring(1, value.length() - 1);
      if (!inner.contains(":")) {
        return null;
      }
    }
    if (!inner.contains(":")) {
      return HOST.matcher(inner).matches() ? inner : null;
    }
    // Checked as text: InetAddress.getByName would ask the system resolver for some near-misses
    // (".::1"), on the event loop. Netty's check also passes brackets and a zone of any text
    // ("[::1]", "::1%a b"), which are no bare address: only hex digits, colons and dots get there.
    return inner.length() <= 45 && inner.chars().allMatch(AuthHttpAnswer::isIpv6Char)
        && NetUtil.isValidIpV6Address(inner) ? inner : null;
  }

  private static boolean isIpv6Char(int c) {
    return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':'
        || c == '.';
  }

  /** Bytes no mail protocol line may carry. */
  private static boolean unsafe(byte[] raw) {
    for (byte b : raw) {
      if (b == 0 || b == '\r' || b == '\n') {
        return true;
      }
    }
    return false;
  }

  private static Duration seconds(String value) {
    if (value == null || value.isBlank()) {
      return Duration.ZERO;
    }
    long n = Long.parseLong(value.trim());
    if (n < 0) {
      throw new NumberFormatException("negative");
    }
    return n > MAX_WAIT.toSeconds() ? MAX_WAIT : Duration.ofSeconds(n);
  }
}
