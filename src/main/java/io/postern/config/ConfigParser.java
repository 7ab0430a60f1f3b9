package io.postern.config;

import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns the YAML tree into {@link PosternConfig}, applying the defaults of DESIGN.md §4 and
 * collecting every error with its key. It checks shape and values only; files named by the
 * configuration are checked by the code that loads them.
 */
public final class ConfigParser {

  private static final Set<String> TLS_PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");
  private static final Duration MIN_IDLE = Duration.ofMinutes(30);
  private static final int MAX_PORT = 65535;

  private final List<ConfigError> errors = new ArrayList<>();

  public static PosternConfig parse(JsonObject root) throws ConfigException {
    ConfigParser parser = new ConfigParser();
    PosternConfig config = parser.read(new ConfigSection("", root, parser.errors));
    if (!parser.errors.isEmpty()) {
      throw new ConfigException(parser.errors);
    }
    return config;
  }

  private PosternConfig read(ConfigSection root) {
    List<ListenerConfig> listeners = root.sections("listeners", this::listener);
    if (listeners == null) {
      listeners = defaultListeners();
    }
    TlsConfig tls = tls(root.section("tls"));
    AuthConfig auth = auth(root.section("auth"));
    Map<String, BackendConfig> backends = backends(root);
    LimitsConfig limits = limits(root.section("limits"));
    AdminConfig admin = admin(root.section("admin"));
    LoggingConfig logging = logging(root.section("logging"));
    root.rejectUnknownKeys();
    checkListeners(listeners, tls, auth, limits.trustedNetworks());
    checkMasters(auth, backends);
    return new PosternConfig(listeners, tls, auth, backends, limits, admin, logging);
  }

  static List<ListenerConfig> defaultListeners() {
    return List.of(
        new ListenerConfig("imap", Protocol.IMAP, "0.0.0.0", 143, TlsMode.STARTTLS, false),
        new ListenerConfig("imaps", Protocol.IMAP, "0.0.0.0", 993, TlsMode.IMPLICIT, false),
        new ListenerConfig("pop3", Protocol.POP3, "0.0.0.0", 110, TlsMode.STARTTLS, false),
        new ListenerConfig("pop3s", Protocol.POP3, "0.0.0.0", 995, TlsMode.IMPLICIT, false));
  }

  static io.vertx.core.json.JsonArray defaultListenersJson() {
    io.vertx.core.json.JsonArray out = new io.vertx.core.json.JsonArray();
    for (ListenerConfig l : defaultListeners()) {
      out.add(new JsonObject().put("name", l.name()).put("protocol", l.protocol().id())
          .put("address", l.address()).put("port", l.port()).put("tls", l.tls().id()));
    }
    return out;
  }

  private ListenerConfig listener(ConfigSection s) {
    String name = s.requiredString("name");
    if (name != null && !name.matches("[A-Za-z0-9_.-]{1,64}")) {
      s.error("name", "may hold only letters, digits, '.', '_' and '-' (is '" + name + "')");
    }
    Protocol protocol = s.choice("protocol", Protocol.class, null);
    if (protocol == null && !s.has("protocol")) {
      s.error("protocol", "is required (imap or pop3)");
    }
    String address = s.string("address", "0.0.0.0");
    if (!s.has("port")) {
      s.error("port", "is required");
    }
    int port = s.integer("port", 0, 0, MAX_PORT);
    TlsMode tls = s.choice("tls", TlsMode.class, TlsMode.STARTTLS);
    boolean proxyProtocol = s.bool("proxy-protocol", false);
    List<String> capabilities = ListenerCapabilities.parse(s, protocol);
    ClientCertificateConfig clientCertificates = clientCertificates(s, tls);
    if (name == null || protocol == null) {
      return null;
    }
    return new ListenerConfig(name, protocol, address, port, tls, proxyProtocol, capabilities,
        clientCertificates);
  }

  /** A listener's client-certificates, client-ca, client-crl and client-certificate-user. */
  private ClientCertificateConfig clientCertificates(ConfigSection s, TlsMode tls) {
    ClientCertificateConfig.Mode mode = s.choice("client-certificates",
        ClientCertificateConfig.Mode.class, ClientCertificateConfig.Mode.NONE);
    Path ca = s.path("client-ca", null);
    Path crl = s.path("client-crl", null);
    ClientCertificateConfig.UserMatch user = s.choice("client-certificate-user",
        ClientCertificateConfig.UserMatch.class, ClientCertificateConfig.UserMatch.NONE);
    if (mode == ClientCertificateConfig.Mode.NONE) {
      if (ca != null) {
        s.error("client-ca", "is set but client-certificates is none; set client-certificates:"
            + " optional or required, or remove client-ca");
      }
      if (user != ClientCertificateConfig.UserMatch.NONE) {
        s.error("client-certificate-user", "needs client-certificates: optional or required");
      }
      if (crl != null) {
        s.error("client-crl", "needs client-certificates: optional or required");
      }
      return ClientCertificateConfig.NONE;
    }
    if (ca == null) {
      s.error("client-ca", "is required with client-certificates: " + mode.id()
          + " (the PEM file of the CAs that issue client certificates)");
    }
    if (tls == TlsMode.NONE) {
      s.error("client-certificates", "needs TLS, but this listener has tls: none");
    }
    return new ClientCertificateConfig(mode, ca, user, crl);
  }

  private TlsConfig tls(ConfigSection s) {
    List<CertificateFiles> certificates = s.sections("certificates", c -> {
      String cert = c.requiredString("cert");
      String key = c.requiredString("key");
      return cert == null || key == null ? null : new CertificateFiles(Path.of(cert), Path.of(key));
    });
    if (certificates == null) {
      certificates = List.of(
          new CertificateFiles(Path.of("conf/tls/postern.crt"), Path.of("conf/tls/postern.key")));
    }
    List<String> protocols = s.strings("protocols");
    if (protocols == null) {
      protocols = List.of("TLSv1.3", "TLSv1.2");
    }
    if (protocols.isEmpty()) {
      s.error("protocols", "must name at least one of TLSv1.3, TLSv1.2");
    }
    for (String p : protocols) {
      if (!TLS_PROTOCOLS.contains(p)) {
        s.error("protocols", "'" + p + "' is not allowed; Postern speaks only TLSv1.3 and TLSv1.2");
      }
    }
    TlsConfig.Engine engine = s.choice("engine", TlsConfig.Engine.class, TlsConfig.Engine.AUTO);
    Duration watch = positive(s, "watch-interval", Duration.ofSeconds(5), Duration.ofHours(1));
    List<Path> ticketKeys = new ArrayList<>();
    List<String> ticketFiles = s.strings("session-ticket-keys");
    if (ticketFiles != null) {
      ticketFiles.forEach(f -> ticketKeys.add(Path.of(f)));
    }
    if (!ticketKeys.isEmpty() && engine == TlsConfig.Engine.JDK) {
      s.error("session-ticket-keys", "needs the OpenSSL engine (engine: auto or openssl); the JDK"
          + " engine encrypts tickets with its own random key, which cannot be shared");
    }
    Duration sessionTimeout = positive(s, "session-timeout", TlsConfig.DEFAULT_SESSION_TIMEOUT,
        Duration.ofDays(1));
    if (sessionTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
      s.error("session-timeout", "must be at least 1s");
    }
    s.rejectUnknownKeys();
    return new TlsConfig(certificates, protocols, engine, watch, ticketKeys, sessionTimeout);
  }

  private AuthConfig auth(ConfigSection s) {
    AuthConfig.Source source =
        s.choice("source", AuthConfig.Source.class, AuthConfig.Source.PASSWD_FILE);
    Path passwdFile = s.path("passwd-file", Path.of("conf/users.passwd"));
    AuthConfig.Http http = http(s.section("http"));
    AuthConfig.Cleartext cleartext =
        s.choice("cleartext", AuthConfig.Cleartext.class, AuthConfig.Cleartext.TLS_ONLY);
    Duration failureDelay = s.duration("failure-delay", Duration.ofSeconds(2));
    if (failureDelay.compareTo(Duration.ofMinutes(1)) > 0) {
      s.error("failure-delay", "must be at most 1m");
    }
    int maxAttempts = s.integer("max-attempts", 3, 1, 100);
    ConfigSection c = s.section("cache");
    AuthConfig.Cache cache = new AuthConfig.Cache(
        positive(c, "ttl", Duration.ofSeconds(60), Duration.ofDays(7)),
        positive(c, "negative-ttl", Duration.ofSeconds(5), Duration.ofDays(7)),
        c.integer("max-entries", 100_000, 0, 100_000_000));
    c.rejectUnknownKeys();
    ConfigSection t = s.section("throttle");
    AuthConfig.Throttle throttle = new AuthConfig.Throttle(
        t.duration("initial-delay", AuthConfig.Throttle.DEFAULT.initialDelay()),
        t.duration("max-delay", AuthConfig.Throttle.DEFAULT.maxDelay()),
        positive(t, "forget-after", AuthConfig.Throttle.DEFAULT.forgetAfter(), Duration.ofDays(7)),
        t.integer("max-tracked", 100_000, 0, 100_000_000),
        t.integer("max-in-flight-per-address",
            AuthConfig.Throttle.DEFAULT.maxInFlightPerAddress(), 1, 100_000),
        t.integer("max-in-flight-per-user",
            AuthConfig.Throttle.DEFAULT.maxInFlightPerUser(), 1, 100_000),
        t.duration("remember-logins", AuthConfig.Throttle.DEFAULT.rememberLogins()),
        throttleStore(t));
    if (throttle.rememberLogins().compareTo(Duration.ofDays(365)) > 0) {
      t.error("remember-logins", "must be at most 365d");
    }
    if (throttle.maxDelay().compareTo(Duration.ofMinutes(5)) > 0) {
      t.error("max-delay", "must be at most 5m");
    }
    if (throttle.initialDelay().compareTo(throttle.maxDelay()) > 0) {
      t.error("initial-delay", "must not be longer than max-delay");
    }
    t.rejectUnknownKeys();
    AuthConfig.Hashing hashing = hashing(s.section("hashing"));
    LdapConfig ldap = ldap(s.section("ldap"), source == AuthConfig.Source.LDAP);
    OAuth2Config oauth2 = oauth2(s.section("oauth2"), source == AuthConfig.Source.OAUTH2);
    MasterConfig master = master(s.has("master"), s.section("master"));
    s.rejectUnknownKeys();
    return new AuthConfig(source, passwdFile, http, cleartext, failureDelay, maxAttempts, cache,
        throttle, hashing, ldap, oauth2, master);
  }

  /**
   * {@code auth.throttle.store} and, for {@code redis}, {@code redis} (the URL) and
   * {@code redis-timeout} (each call).
   */
  private ThrottleStoreConfig throttleStore(ConfigSection t) {
    ThrottleStoreConfig.Store store =
        t.choice("store", ThrottleStoreConfig.Store.class, ThrottleStoreConfig.Store.MEMORY);
    String url = t.string("redis", null);
    Duration timeout = t.duration("redis-timeout", ThrottleStoreConfig.DEFAULT_TIMEOUT);
    if (store != ThrottleStoreConfig.Store.REDIS) {
      // The redis keys may stay: going back to memory during a Redis outage is a one-line edit.
      return ThrottleStoreConfig.MEMORY;
    }
    if (url == null || url.isBlank()) {
      t.error("redis", "is required with store: redis (e.g. redis://127.0.0.1:6379)");
    } else {
      String problem = redisUrlProblem(url.trim());
      if (problem != null) {
        t.error("redis", problem + " (is '" + ThrottleStoreConfig.where(url.trim()) + "')");
      }
    }
    if (timeout.compareTo(Duration.ofMillis(10)) < 0 || timeout.compareTo(Duration.ofSeconds(5))
        > 0) {
      t.error("redis-timeout", "must be between 10ms and 5s");
    }
    return new ThrottleStoreConfig(ThrottleStoreConfig.Store.REDIS,
        url == null ? null : url.trim(), timeout);
  }

  /** Why {@code url} is no Redis URL Postern can use, or null. */
  private static String redisUrlProblem(String url) {
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (!scheme.equals("redis") && !scheme.equals("rediss")) {
        return "must be a redis:// or rediss:// URL";
      }
      if (uri.getHost() == null || uri.getHost().isEmpty()) {
        return "must name a host";
      }
      if (uri.getPort() == 0 || uri.getPort() > 65_535) {
        return "must have a port between 1 and 65535";
      }
      String path = uri.getPath() == null ? "" : uri.getPath();
      if (!path.isEmpty() && !path.matches("/\\d{0,2}")) {
        return "may name only a database number as its path";
      }
      return null;
    } catch (java.net.URISyntaxException e) {
      return "must be a redis:// or rediss:// URL";
    }
  }

  /** {@code auth.master}: null when absent or null (no master users). */
  private MasterConfig master(boolean present, ConfigSection m) {
    if (!present) {
      m.rejectUnknownKeys();
      return null;
    }
    String separator = m.string("separator", MasterConfig.DEFAULT_SEPARATOR);
    String problem = MasterConfig.separatorProblem(separator);
    if (problem != null) {
      m.error("separator", problem);
    }
    Path file = m.path("passwd-file", null);
    if (file == null) {
      m.error("passwd-file", "is required: the master users' passwd-file");
    }
    m.rejectUnknownKeys();
    return new MasterConfig(separator, file);
  }

  /** {@code backends.<name>.master}: the backend's master user; null when absent. */
  private BackendConfig.Master backendMaster(ConfigSection parent) {
    if (!parent.has("master")) {
      parent.section("master").rejectUnknownKeys();
      return null;
    }
    ConfigSection m = parent.section("master");
    String user = m.requiredString("user");
    if (user != null && (user.chars().anyMatch(c -> c <= 0x20 || c == 0x7f))) {
      m.error("user", "must be printable characters other than space");
    }
    Path file = m.path("password-file", null);
    if (file == null) {
      m.error("password-file", "is required: a file holding the master user's password");
    }
    m.rejectUnknownKeys();
    return new BackendConfig.Master(user, file, null);
  }

  private AuthConfig.Hashing hashing(ConfigSection h) {
    AuthConfig.Hashing d = AuthConfig.Hashing.DEFAULT;
    AuthConfig.Hashing hashing = new AuthConfig.Hashing(
        h.integer("max-concurrent", d.maxConcurrent(), 1, 1024),
        h.integer("max-concurrent-per-ip", d.maxConcurrentPerIp(), 1, 1024),
        h.size("max-memory", d.maxMemory(), 1L << 20, 1L << 40),
        h.integer("max-queue", d.maxQueue(), 0, 1_000_000),
        h.integer("max-queue-per-ip", d.maxQueuePerIp(), 0, 1_000_000));
    if (hashing.maxConcurrentPerIp() > hashing.maxConcurrent()) {
      h.error("max-concurrent-per-ip", "must not be more than max-concurrent");
    }
    h.rejectUnknownKeys();
    return hashing;
  }

  /** {@code auth.ldap}; null unless {@code used} (auth.source: ldap). */
  private LdapConfig ldap(ConfigSection l, boolean used) {
    List<String> urls = new ArrayList<>();
    List<String> given = l.strings("url");
    if (given != null) {
      // A space-separated string, as OpenLDAP's tools and Dovecot take it, or a list.
      given.forEach(g -> urls.addAll(List.of(g.trim().split("\\s+"))));
      urls.removeIf(String::isEmpty);
    }
    if (used && urls.isEmpty()) {
      l.error("url", "needs at least one ldap:// or ldaps:// URL");
    }
    for (String url : urls) {
      String problem = LdapUrls.problem(url);
      if (problem != null) {
        l.error("url", "'" + url + "' " + problem);
      }
    }
    boolean startTls = l.bool("start-tls", false);
    if (startTls && !urls.isEmpty() && urls.stream().noneMatch(u -> u.startsWith("ldap://"))) {
      l.error("start-tls", "applies to ldap:// URLs, and every URL is ldaps://");
    }
    Path ca = l.path("ca", null);
    String bindDn = l.string("bind-dn", null);
    Path bindPasswordFile = l.path("bind-password-file", null);
    boolean direct = bindDn != null && LdapConfig.isTemplate(bindDn);
    if (bindDn != null && !com.unboundid.ldap.sdk.DN.isValidDN(LdapUrls.sample(bindDn))) {
      l.error("bind-dn", "is not a DN (e.g. uid=%u,ou=people,dc=example,dc=org)");
    }
    if (direct && bindPasswordFile != null) {
      l.error("bind-password-file", "is for a service account's bind-dn; a bind-dn with %u binds"
          + " as the user with the user's own password");
    }
    if (bindDn != null && !direct && bindPasswordFile == null) {
      l.error("bind-password-file", "is required with a service account's bind-dn (a bind-dn"
          + " without %u)");
    }
    if (bindDn == null && bindPasswordFile != null) {
      l.error("bind-dn", "is required with bind-password-file");
    }
    String base = l.string("base", null);
    if (base != null && !com.unboundid.ldap.sdk.DN.isValidDN(base)) {
      l.error("base", "is not a DN (e.g. ou=people,dc=example,dc=org)");
    }
    if (used && !direct && base == null) {
      l.error("base", "is required to search for users (or give a bind-dn with %u)");
    }
    String filter = l.string("filter", LdapConfig.DEFAULT_FILTER);
    if (!direct && !LdapConfig.isTemplate(filter)) {
      l.error("filter", "must name the user with %u (or %n, %d)");
    }
    try {
      com.unboundid.ldap.sdk.Filter.create(LdapUrls.sample(filter));
    } catch (com.unboundid.ldap.sdk.LDAPException e) {
      l.error("filter", "is not an LDAP filter (e.g. (uid=%u)): " + e.getExceptionMessage());
    }
    ConfigSection a = l.section("attributes");
    LdapConfig.Attributes attributes = new LdapConfig.Attributes(attribute(a, "backend"),
        attribute(a, "host"), attribute(a, "user"), attribute(a, "disabled"));
    a.rejectUnknownKeys();
    String disabledReason = l.string("disabled-reason", LdapConfig.DEFAULT_DISABLED_REASON);
    if (disabledReason.isBlank() || disabledReason.length() > 200
        || disabledReason.chars().anyMatch(ch -> ch < 0x20 || ch > 0x7e)) {
      l.error("disabled-reason", "must be 1 to 200 printable ASCII characters");
    }
    int poolSize = l.integer("pool-size", LdapConfig.DEFAULT_POOL_SIZE, 1,
        LdapConfig.MAX_POOL_SIZE);
    Duration timeout = positive(l, "timeout", LdapConfig.DEFAULT_TIMEOUT,
        LdapConfig.MAX_TIMEOUT);
    l.rejectUnknownKeys();
    if (!used) {
      return null;
    }
    return new LdapConfig(urls, startTls, ca, base, filter, bindDn, bindPasswordFile, attributes,
        disabledReason, poolSize, timeout);
  }

  /** An attribute's name (or OID) under {@code auth.ldap.attributes}; null when not given. */
  private static String attribute(ConfigSection a, String name) {
    String value = a.string(name, null);
    if (value != null && !value.matches("[A-Za-z][A-Za-z0-9-]{0,127}|[0-9]+(\\.[0-9]+)+")) {
      a.error(name, "must be an attribute's name, e.g. mailHost (is '" + value + "')");
      return null;
    }
    return value;
  }

  private AuthConfig.Http http(ConfigSection s) {
    List<String> urls = s.strings("url");
    if (urls == null) {
      urls = List.of("http://127.0.0.1:9000/auth");
    }
    if (urls.isEmpty()) {
      s.error("url", "needs at least one URL");
    }
    for (String url : urls) {
      String problem = httpUrlProblem(url);
      if (problem != null) {
        // A user:password in the URL is a secret: the error must not repeat it.
        s.error("url", "'" + url.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", "$1…@")
            + "' " + problem);
      }
    }
    Duration timeout = positive(s, "timeout", Duration.ofSeconds(5), Duration.ofMinutes(10));
    Map<String, String> headers = s.stringMap("headers");
    if (headers != null) {
      headers.forEach((name, value) -> {
        if (!name.matches("[A-Za-z0-9-]+") || value.chars().anyMatch(ch -> ch < 0x20 || ch > 0x7e)) {
          s.error("headers", "'" + name + "' needs a name of letters, digits and -, and a"
              + " value of printable ASCII");
        }
      });
    }
    Path ca = s.path("ca", null);
    Duration backoff = positive(s, "url-backoff", AuthConfig.Http.DEFAULT_URL_BACKOFF,
        Duration.ofHours(1));
    Duration backoffMax = positive(s, "url-backoff-max", AuthConfig.Http.DEFAULT_URL_BACKOFF_MAX
        .compareTo(backoff) < 0 ? backoff : AuthConfig.Http.DEFAULT_URL_BACKOFF_MAX,
        Duration.ofHours(1));
    if (backoffMax.compareTo(backoff) < 0) {
      s.error("url-backoff-max", "must not be less than url-backoff");
    }
    s.rejectUnknownKeys();
    return new AuthConfig.Http(urls, timeout, headers == null ? Map.of() : headers, ca, backoff,
        backoffMax);
  }

  /**
   * Why {@code url} cannot name an auth service, or null. Host names as nginx and Vert.x take
   * them, {@code _} included (java.net.URI alone would refuse Docker Compose names).
   */
  /** A loopback address or {@code localhost}, as a URL's host names it. */
  private static boolean loopback(String host) {
    String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    return h.equalsIgnoreCase("localhost") || h.startsWith("127.") || h.equals("::1");
  }

  private static String httpUrlProblem(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (java.net.URISyntaxException e) {
      return "is not a URL";
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())
        || uri.getRawAuthority() == null) {
      return "must be an http:// or https:// URL with a host";
    }
    if (uri.getRawAuthority().contains("@")) {
      // The HTTP client would drop them without a word.
      return "must not hold a user or password; send credentials with auth.http.headers"
          + " (e.g. Authorization: Basic ...)";
    }
    try {
      String host = new RequestOptions().setAbsoluteURI(url).getHost();
      return host == null || host.isEmpty() ? "must be an http:// or https:// URL with a host"
          : null;
    } catch (RuntimeException e) {
      return "is not a URL";
    }
  }

  /** RFC 6749 §3.3: scope-tokens of %x21 / %x23-5B / %x5D-7E, one space between two. */
  private static final Pattern OAUTH_SCOPE = Pattern.compile(
      "[\\x21\\x23-\\x5B\\x5D-\\x7E]+( [\\x21\\x23-\\x5B\\x5D-\\x7E]+)*");

  /**
   * {@code auth.oauth2}; null unless {@code used} (auth.source: oauth2). A JWKS needs the issuer
   * and audience (else any token the issuer signs for any client would do); introspection needs
   * the client's id and secret.
   */
  private OAuth2Config oauth2(ConfigSection o, boolean used) {
    String jwksUrl = o.string("jwks-url", null);
    String introspectionUrl = o.string("introspection-url", null);
    String issuer = o.string("issuer", null);
    List<String> audience = o.strings("audience");
    String userClaim = o.string("user-claim", null);
    Duration refresh = positive(o, "jwks-refresh", OAuth2Config.DEFAULT_JWKS_REFRESH,
        Duration.ofDays(7));
    Path ca = o.path("ca", null);
    Duration timeout = positive(o, "timeout", OAuth2Config.DEFAULT_TIMEOUT, Duration.ofMinutes(1));
    Duration skew = o.duration("clock-skew", OAuth2Config.DEFAULT_CLOCK_SKEW);
    if (skew.compareTo(Duration.ofMinutes(10)) > 0) {
      o.error("clock-skew", "must be at most 10m");
    }
    String clientId = o.string("client-id", null);
    Path secretFile = o.path("client-secret-file", null);
    String backend = o.string("backend", PosternConfig.DEFAULT_BACKEND);
    String scope = o.string("scope", null);
    String openidConfiguration = o.string("openid-configuration", null);
    o.rejectUnknownKeys();
    if (!used) {
      return null;
    }
    if (scope != null && !OAUTH_SCOPE.matcher(scope).matches()) {
      o.error("scope", "must be OAuth 2.0 scope tokens separated by single spaces (RFC 6749"
          + " §3.3: printable ASCII without '\"' or '\\')");
    }
    String discoveryProblem = openidConfiguration == null ? null
        : openidConfiguration.regionMatches(true, 0, "https://", 0, 8)
            ? httpUrlProblem(openidConfiguration) : "must be an https:// URL";
    if (discoveryProblem != null) {
      o.error("openid-configuration", "'" + openidConfiguration + "' " + discoveryProblem);
    }
    if ((jwksUrl == null) == (introspectionUrl == null)) {
      o.error(jwksUrl == null ? "jwks-url" : "introspection-url", jwksUrl == null
          ? "is required (or introspection-url)" : "must not be set with jwks-url; pick one");
    }
    for (String key : List.of("jwks-url", "introspection-url")) {
      String url = key.equals("jwks-url") ? jwksUrl : introspectionUrl;
      String problem = url == null ? null : httpUrlProblem(url);
      if (problem != null && problem.startsWith("must not hold a user")) {
        problem = "must not hold a user or password (client-id and client-secret-file are"
            + " sent in HTTP Basic auth)";
      }
      if (problem == null && url != null && url.regionMatches(true, 0, "http:", 0, 5)
          && !loopback(new RequestOptions().setAbsoluteURI(url).getHost())) {
        // Whoever is on the path could hand Postern a signing key of their own (JWKS), or read
        // the client secret and every user's token (introspection).
        problem = "must be https:// (plain http:// only to this machine's loopback address)";
      }
      if (problem != null) {
        o.error(key, "'" + url.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://)[^/@]*@", "$1…@")
            + "' " + problem);
      }
    }
    if (jwksUrl != null) {
      if (issuer == null || issuer.isBlank()) {
        o.error("issuer", "is required with jwks-url (the iss every token must carry)");
      }
      if (audience == null || audience.isEmpty() || audience.stream().anyMatch(String::isBlank)) {
        o.error("audience", "is required with jwks-url (one or more aud values; a token must"
            + " name one of them)");
      }
    }
    if (introspectionUrl != null) {
      if (clientId == null || clientId.isBlank()) {
        o.error("client-id", "is required with introspection-url");
      }
      if (secretFile == null) {
        o.error("client-secret-file", "is required with introspection-url");
      }
    }
    if (userClaim == null) {
      userClaim = jwksUrl != null ? OAuth2Config.DEFAULT_JWT_USER_CLAIM
          : OAuth2Config.DEFAULT_INTROSPECTION_USER_CLAIM;
    } else if (userClaim.isBlank()) {
      o.error("user-claim", "must name a claim, e.g. email or sub");
    }
    return new OAuth2Config(jwksUrl, introspectionUrl, issuer, audience, userClaim, refresh, ca,
        timeout, skew, clientId, secretFile, backend, scope, openidConfiguration);
  }

  /** Master users need a backend that takes them: without one, no master login could work. */
  private void checkMasters(AuthConfig auth, Map<String, BackendConfig> backends) {
    // Said here, not at the first support call: every master login would be unavailable.
    String noLookup = auth.master() == null ? null : switch (auth.source()) {
      case PASSWD_FILE -> null;
      case LDAP -> auth.ldap() != null && auth.ldap().directBind()
          ? "needs auth.ldap.bind-dn of a service account (with bind-password-file, base and"
              + " filter) to search for the customer: a bind-dn with %u ('" + auth.ldap().bindDn()
              + "') binds as the user and cannot find a customer without the customer's password"
          : null;
      case HTTP -> "needs auth.source passwd-file or ldap (searching as a service account): the"
          + " auth_http protocol of auth.source http has no way to find a customer without the"
          + " customer's password";
      case OAUTH2 -> "needs auth.source passwd-file or ldap (searching as a service account):"
          + " auth.source oauth2 checks tokens and cannot find a customer by name";
    };
    if (noLookup != null) {
      errors.add(new ConfigError("auth.master", noLookup));
    }
    if (auth.master() != null && !backends.isEmpty()
        && backends.values().stream().allMatch(b -> b.master() == null)) {
      errors.add(new ConfigError("auth.master", "no backend has a master user"
          + " (backends.<name>.master: { user: ..., password-file: ... }): master logins"
          + " could never open a mailbox"));
    }
  }

  private Map<String, BackendConfig> backends(ConfigSection root) {
    Map<String, BackendConfig> out = new LinkedHashMap<>();
    if (!root.has("backends")) {
      root.section("backends");
      out.put(PosternConfig.DEFAULT_BACKEND, new BackendConfig(PosternConfig.DEFAULT_BACKEND,
          "127.0.0.1", new BackendConfig.Endpoint(143, TlsMode.NONE),
          new BackendConfig.Endpoint(110, TlsMode.NONE), true, null));
      return out;
    }
    ConfigSection all = root.section("backends");
    for (Map.Entry<String, ConfigSection> e : all.children().entrySet()) {
      out.put(e.getKey(), backend(e.getKey(), e.getValue()));
    }
    if (!out.containsKey(PosternConfig.DEFAULT_BACKEND)) {
      root.error("backends", "must define a backend named 'default' (used for users whose record"
          + " names no backend)");
    }
    return out;
  }

  private BackendConfig backend(String name, ConfigSection s) {
    List<BackendConfig.Server> servers = servers(name, s);
    BackendConfig.Endpoint imap = endpoint(s.section("imap"), 143, 993);
    BackendConfig.Endpoint pop3 = endpoint(s.section("pop3"), 110, 995);
    boolean verify = s.bool("tls-verify", true);
    Path ca = s.path("ca", null);
    BackendConfig.Balance balance =
        s.choice("balance", BackendConfig.Balance.class, BackendConfig.Balance.USER_HASH);
    // A pool is checked unless told otherwise: without checks, a dead server's users would wait
    // out a connect timeout on every login before failing over. One server has nowhere to go.
    BackendConfig.HealthCheck check = healthCheck(s,
        servers.size() > 1 ? BackendConfig.HealthCheck.DEFAULT : BackendConfig.HealthCheck.OFF);
    BackendConfig.ClientIp clientIp =
        s.choice("client-ip", BackendConfig.ClientIp.class, BackendConfig.ClientIp.NONE);
    BackendConfig.Master master = backendMaster(s);
    s.rejectUnknownKeys();
    return new BackendConfig(name, servers, imap, pop3, verify, ca, balance, check, clientIp,
        master);
  }

  /** {@code host} for one server, or {@code servers} for a pool; never both. */
  private List<BackendConfig.Server> servers(String name, ConfigSection s) {
    boolean isDefault = name.equals(PosternConfig.DEFAULT_BACKEND);
    if (s.has("servers")) {
      if (s.has("host")) {
        s.error("host", "give either host (one server) or servers (a pool), not both");
      }
      List<BackendConfig.Server> servers = s.sections("servers", this::server);
      if (servers == null || servers.isEmpty()) {
        s.error("servers", "must list at least one server");
        return List.of(BackendConfig.Server.of("127.0.0.1"));
      }
      if (servers.size() > BackendConfig.Server.MAX_SERVERS) {
        s.error("servers", "lists " + servers.size() + " servers; at most "
            + BackendConfig.Server.MAX_SERVERS + " per backend");
      }
      int weights = servers.stream().mapToInt(BackendConfig.Server::weight).sum();
      if (weights > BackendConfig.Server.MAX_TOTAL_WEIGHT) {
        s.error("servers", "weights add up to " + weights + "; at most "
            + BackendConfig.Server.MAX_TOTAL_WEIGHT + " per backend (each unit of weight is 160"
            + " points on the hash ring)");
      }
      java.util.Set<String> names = new java.util.HashSet<>();
      for (BackendConfig.Server server : servers) {
        if (!names.add(server.name())) {
          s.error("servers", "two servers are named '" + server.name() + "': give each a"
              + " distinct name (it labels the server in metrics, logs and /health/ready)");
        }
      }
      return servers;
    }
    String host = isDefault ? s.string("host", "127.0.0.1") : s.requiredString("host");
    // A missing host is already an error; the placeholder only keeps the record whole.
    return List.of(BackendConfig.Server.of(host == null ? "127.0.0.1" : host));
  }

  private BackendConfig.Server server(ConfigSection s) {
    String host = s.requiredString("host");
    if (host == null) {
      return null;
    }
    int weight = s.integer("weight", 1, 1, BackendConfig.Server.MAX_WEIGHT);
    Integer imapPort = s.has("imap-port") ? s.integer("imap-port", 143, 1, MAX_PORT) : null;
    Integer pop3Port = s.has("pop3-port") ? s.integer("pop3-port", 110, 1, MAX_PORT) : null;
    String fallbackName = imapPort == null && pop3Port == null ? host
        : host + ":" + (imapPort != null ? imapPort : pop3Port);
    return new BackendConfig.Server(s.string("name", fallbackName), host, weight, imapPort,
        pop3Port);
  }

  private BackendConfig.HealthCheck healthCheck(ConfigSection parent,
      BackendConfig.HealthCheck fallback) {
    if (!parent.has("health-check")) {
      parent.section("health-check");
      return fallback;
    }
    ConfigSection s = parent.section("health-check");
    BackendConfig.HealthCheck d = BackendConfig.HealthCheck.DEFAULT;
    boolean enabled = s.bool("enabled", true);
    Duration interval = positive(s, "interval", d.interval(), Duration.ofHours(1));
    Duration timeout = positive(s, "timeout", d.timeout(), Duration.ofMinutes(1));
    if (timeout.compareTo(interval) > 0) {
      s.error("timeout", "must not be longer than interval (" + Durations.format(interval)
          + "): checks of one server would overlap");
    }
    int fall = s.integer("fall", d.fall(), 1, 100);
    int rise = s.integer("rise", d.rise(), 1, 100);
    s.rejectUnknownKeys();
    return new BackendConfig.HealthCheck(enabled, interval, timeout, fall, rise);
  }

  private BackendConfig.Endpoint endpoint(ConfigSection s, int plainPort, int tlsPort) {
    TlsMode tls = s.choice("tls", TlsMode.class, TlsMode.NONE);
    int port = s.integer("port", tls == TlsMode.IMPLICIT ? tlsPort : plainPort, 1, MAX_PORT);
    s.rejectUnknownKeys();
    return new BackendConfig.Endpoint(port, tls);
  }

  private LimitsConfig limits(ConfigSection s) {
    Duration idle = positive(s, "idle-timeout", Duration.ofMinutes(30), Duration.ofDays(7));
    if (idle.compareTo(MIN_IDLE) < 0) {
      s.error("idle-timeout", "must be at least 30m: IMAP IDLE clients re-issue IDLE only every 29"
          + " minutes (RFC 2177)");
    }
    List<Cidr> trusted = new ArrayList<>();
    List<String> nets = s.strings("trusted-networks");
    for (String net : nets == null ? List.<String>of() : nets) {
      try {
        trusted.add(Cidr.parse(net));
      } catch (IllegalArgumentException e) {
        s.error("trusted-networks", e.getMessage());
      }
    }
    LimitsConfig limits = new LimitsConfig(
        positive(s, "preauth-timeout", Duration.ofSeconds(60), Duration.ofHours(1)),
        idle,
        positive(s, "handshake-timeout", Duration.ofSeconds(10), Duration.ofMinutes(10)),
        positive(s, "backend-connect-timeout", Duration.ofSeconds(5), Duration.ofMinutes(10)),
        positive(s, "backend-login-timeout", Duration.ofSeconds(30), Duration.ofMinutes(10)),
        s.integer("max-line", 8192, 1024, 1 << 20),
        s.integer("max-literal", 8192, 256, 1 << 20),
        s.integer("max-bad-commands", 5, 1, 1000),
        maxConnections(s),
        s.integer("max-connections-per-ip", 100, 1, 10_000_000),
        trusted,
        positive(s, "shutdown-grace", Duration.ofSeconds(30), Duration.ofHours(1)),
        s.integer("connection-rate-per-ip", 300, 0, 10_000_000),
        s.integer("handshake-rate-per-ip", 120, 0, 10_000_000),
        s.integer("descriptor-reserve", 256, 32, 1_000_000),
        s.duration("drain-window", Duration.ofSeconds(10)));
    if (limits.drainWindow().isNegative()) {
      s.error("drain-window", "must not be negative");
    } else if (limits.drainWindow().compareTo(limits.shutdownGrace()) > 0) {
      s.error("drain-window", "must not be longer than shutdown-grace ("
          + limits.shutdownGrace().toSeconds() + "s): sessions are ended within the grace");
    }
    s.rejectUnknownKeys();
    return limits;
  }

  /** A number, or {@code auto}: fitted to the open-file limit at start-up. */
  private static int maxConnections(ConfigSection s) {
    String value = s.string("max-connections", "auto").trim();
    if (value.equals("auto")) {
      return LimitsConfig.AUTO;
    }
    if (!value.matches("[0-9]{1,9}")) {
      s.error("max-connections", "must be a whole number or auto (is '" + value + "')");
      return LimitsConfig.AUTO;
    }
    return s.integer("max-connections", LimitsConfig.AUTO, 1, 10_000_000);
  }

  private AdminConfig admin(ConfigSection s) {
    AdminConfig admin =
        new AdminConfig(s.string("address", "127.0.0.1"), s.integer("port", 9102, 0, MAX_PORT),
            s.path("token-file", null));
    s.rejectUnknownKeys();
    return admin;
  }

  private LoggingConfig logging(ConfigSection s) {
    LoggingConfig logging = new LoggingConfig(
        s.choice("format", LoggingConfig.Format.class, LoggingConfig.Format.TEXT));
    s.rejectUnknownKeys();
    return logging;
  }

  /** Longer than zero and at most {@code max}: no timeout may be "forever" by accident. */
  private static Duration positive(ConfigSection s, String name, Duration fallback,
      Duration max) {
    Duration d = s.duration(name, fallback);
    if (d.isZero() || d.isNegative()) {
      s.error(name, "must be longer than zero");
      return fallback;
    }
    if (d.compareTo(max) > 0) {
      s.error(name, "must be at most " + Durations.format(max));
      return fallback;
    }
    return d;
  }

  private void checkListeners(List<ListenerConfig> listeners, TlsConfig tls, AuthConfig auth,
      List<Cidr> trusted) {
    Set<String> names = new HashSet<>();
    Set<String> endpoints = new HashSet<>();
    for (int i = 0; i < listeners.size(); i++) {
      ListenerConfig l = listeners.get(i);
      String key = "listeners[" + i + "]";
      if (!names.add(l.name())) {
        errors.add(new ConfigError(key + ".name", "'" + l.name() + "' is used by two listeners"));
      }
      if (l.port() != 0 && !endpoints.add(l.endpoint())) {
        errors.add(new ConfigError(key + ".port", l.endpoint() + " is used by two listeners"));
      }
      if (l.tls() == TlsMode.NONE && auth.cleartext() == AuthConfig.Cleartext.TLS_ONLY) {
        errors.add(new ConfigError(key + ".tls", "listener '" + l.name() + "' has tls: none but"
            + " auth.cleartext is tls-only, so nobody could ever log in there; use starttls, or"
            + " set auth.cleartext: allow"));
      }
    }
    for (int i = 0; i < listeners.size(); i++) {
      if (listeners.get(i).proxyProtocol() && trusted.isEmpty()) {
        errors.add(new ConfigError("listeners[" + i + "].proxy-protocol", "is true but"
            + " limits.trusted-networks is empty, so every connection would be refused; list the"
            + " load balancers' addresses there"));
      }
    }
    boolean needsCertificates = listeners.stream().anyMatch(l -> l.tls() != TlsMode.NONE);
    if (needsCertificates && tls.certificates().isEmpty()) {
      errors.add(new ConfigError("tls.certificates",
          "at least one certificate is needed by the starttls and implicit listeners"));
    }
  }
}
