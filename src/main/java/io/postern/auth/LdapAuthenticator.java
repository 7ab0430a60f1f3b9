package io.postern.auth;

import com.unboundid.ldap.sdk.BindRequest;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SimpleBindRequest;
import io.postern.config.LdapConfig;
import io.postern.config.LdapUrls;
import io.postern.credentials.Credentials;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code auth.source: ldap}: checks the password with a bind at an LDAP directory, found by a
 * {@code bind-dn} template or by a search as a service account, and routes the user by the
 * entry's attributes ({@link LdapEntryAnswer}). A master login's customer is found by the
 * search alone ({@link #lookup}).
 *
 * <p>The LDAP SDK blocks, so every login runs on a worker pool of {@code pool-size} threads of
 * its own, never on an event loop; at most {@link #MAX_WAITING_PER_THREAD} logins per thread
 * wait for one, and a login that waited longer than {@code timeout} is answered as
 * unavailable without asking. Each server has its own connection pools; the servers are asked
 * in order, and one that fails (refused, timed out, TLS refused) is skipped for a while
 * ({@link ServiceUrls}), so that a dead primary costs one timeout per back-off period, not one
 * per login. Only when no server answers is the answer {@link AuthResult.Unavailable}.
 */
public final class LdapAuthenticator implements Authenticator {

  private static final Logger LOG = LoggerFactory.getLogger(LdapAuthenticator.class);

  /** Logins that may wait for each worker thread; more are answered as unavailable at once. */
  static final int MAX_WAITING_PER_THREAD = 64;
  /** How long a server that failed is skipped, doubling up to the maximum while it fails. */
  static final Duration SERVER_BACKOFF = Duration.ofSeconds(10);
  static final Duration SERVER_BACKOFF_MAX = Duration.ofMinutes(2);

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  private final Vertx vertx;
  private final LdapConfig config;
  private final WorkerExecutor workers;
  private final Map<String, LdapServer> servers;
  private final ServiceUrls urls;
  private final LdapEntryAnswer answers;
  private final int maxWaiting;
  private final AtomicInteger waiting = new AtomicInteger();

  private LdapAuthenticator(Vertx vertx, LdapConfig config, Map<String, LdapServer> servers) {
    this.vertx = vertx;
    this.config = config;
    this.servers = servers;
    this.maxWaiting = config.poolSize() * MAX_WAITING_PER_THREAD;
    // Each login makes at most three requests of a server (search, bind, read), each bounded.
    long longestLogin = config.timeout().toNanos() * 4;
    this.workers = vertx.createSharedWorkerExecutor("postern-ldap-" + INSTANCES.incrementAndGet(),
        config.poolSize(), longestLogin * servers.size() + TimeUnit.SECONDS.toNanos(1),
        TimeUnit.NANOSECONDS);
    this.urls = new ServiceUrls(config.urls(), SERVER_BACKOFF, SERVER_BACKOFF_MAX,
        Duration.ofNanos(longestLogin), System::nanoTime);
    this.answers = new LdapEntryAnswer(config);
  }

  /**
   * Reads the CA and the service account's password file; connects to nothing yet (a directory
   * that is down at start-up is a temporary failure of logins, not of Postern). Blocking: call
   * at start-up or from the reload thread. Fails with a message for the key it names.
   */
  public static LdapAuthenticator create(Vertx vertx, LdapConfig config) throws Problem {
    SSLSocketFactory tls;
    try {
      tls = LdapTls.sockets(config.ca());
    } catch (GeneralSecurityException | IOException e) {
      throw new Problem("ca", config.ca() == null ? "cannot use the system's CAs: "
          + e.getMessage() : "cannot use " + config.ca() + " as the CA: " + e.getMessage());
    }
    BindRequest serviceBind = null;
    if (config.bindDn() != null && !config.directBind()) {
      serviceBind = new SimpleBindRequest(config.bindDn(), servicePassword(config));
    }
    LDAPConnectionOptions options = new LDAPConnectionOptions();
    options.setConnectTimeoutMillis((int) config.timeout().toMillis());
    options.setResponseTimeoutMillis(config.timeout().toMillis());
    options.setAbandonOnTimeout(true);
    // An empty password is an unauthenticated bind, which succeeds: the SDK refuses it too.
    options.setBindWithDNRequiresPassword(true);
    Map<String, LdapServer> servers = new LinkedHashMap<>();
    for (String url : config.urls()) {
      LdapUrls.Server server = LdapUrls.parse(url);
      SocketFactory sockets = server.secure() ? tls : SocketFactory.getDefault();
      SSLSocketFactory startTls = !server.secure() && config.startTls() ? tls : null;
      if (!server.secure() && !config.startTls()) {
        LOG.warn("auth.ldap: {} is plain LDAP without start-tls: users' passwords cross the"
            + " network in the clear", url);
      }
      servers.put(url, new LdapServer(server, sockets, startTls, options, serviceBind,
          config.poolSize(), config.timeout().toMillis()));
    }
    return new LdapAuthenticator(vertx, config, servers);
  }

  private static byte[] servicePassword(LdapConfig config) throws Problem {
    try {
      String text = Files.readString(config.bindPasswordFile(), StandardCharsets.UTF_8);
      // One line, as written by echo or an editor: the line break is not the password's.
      String password = text.strip();
      if (password.isEmpty()) {
        throw new Problem("bind-password-file", config.bindPasswordFile() + " is empty");
      }
      return password.getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Problem("bind-password-file", "cannot read " + config.bindPasswordFile());
    }
  }

  /** A configuration problem under {@code auth.ldap.key}. */
  public static final class Problem extends Exception {
    private static final long serialVersionUID = 1L;
    private final String key;

    Problem(String key, String message) {
      super(message);
      this.key = key;
    }

    /** The full key, e.g. {@code auth.ldap.ca}. */
    public String key() {
      return "auth.ldap." + key;
    }
  }

  @Override
  public String source() {
    return "ldap";
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    Credentials credentials = request.credentials();
    // Never an empty password: a simple bind without one is an anonymous bind, and succeeds.
    if (credentials.password() == null || credentials.password().isEmpty()
        || credentials.user() == null || credentials.user().isEmpty()) {
      return Future.succeededFuture(AuthResult.Rejected.badCredentials());
    }
    return offLoop(() -> ask(server -> answers.check(server, credentials)));
  }

  /**
   * The customer of a master login, found by the search as the service account (never a bind
   * as the customer), with the servers, failover, pool, workers and timeouts of logins. A
   * direct bind ({@code bind-dn} with {@code %u}) cannot find anybody without their password:
   * the configuration check refuses master users with it, and this answers unavailable.
   */
  @Override
  public Future<AuthResult> lookup(AuthRequest request) {
    if (config.directBind()) {
      return Future.succeededFuture(new AuthResult.Unavailable("LDAP binds as the user"
          + " (auth.ldap.bind-dn with %u): no lookup without the user's password"));
    }
    String user = request.credentials().user();
    if (user == null || user.isEmpty()) {
      return Future.succeededFuture(new AuthResult.Rejected(null, Duration.ZERO,
          "unknown user"));
    }
    return offLoop(() -> ask(server -> answers.lookup(server, user)));
  }

  /** One question to one server; an {@link LDAPException} is the server's failure. */
  @FunctionalInterface
  private interface Question {
    AuthResult ask(LdapServer server) throws LDAPException;
  }

  /** Runs {@code task} on the LDAP workers, within the bounds; Unavailable beyond them. */
  private Future<AuthResult> offLoop(java.util.concurrent.Callable<AuthResult> task) {
    if (waiting.incrementAndGet() > maxWaiting) {
      waiting.decrementAndGet();
      return Future.succeededFuture(new AuthResult.Unavailable("LDAP: " + maxWaiting
          + " logins already wait for the directory"));
    }
    long queued = System.nanoTime();
    return workers.<AuthResult>executeBlocking(() -> {
      waiting.decrementAndGet();
      if (System.nanoTime() - queued > config.timeout().toNanos()) {
        return new AuthResult.Unavailable("LDAP: waited longer than the timeout for a worker");
      }
      return task.call();
    }, false).otherwise(e -> {
      LOG.error("ldap: a login failed unexpectedly: {}", e.toString());
      return new AuthResult.Unavailable("LDAP: " + e.getClass().getSimpleName());
    });
  }

  /** Asks the servers in order until one answers. Blocking. */
  private AuthResult ask(Question question) {
    List<String> order = urls.order();
    String lastProblem = null;
    for (int i = 0; i < order.size(); i++) {
      String url = order.get(i);
      if (!urls.take(url) && (lastProblem != null || i < order.size() - 1)) {
        // Down, or being probed by another login; the last one is asked when none was.
        continue;
      }
      try {
        AuthResult result = question.ask(servers.get(url));
        urls.succeeded(url);
        return result;
      } catch (LDAPException e) {
        lastProblem = url + ": " + describe(e);
        LOG.warn("ldap server {}", lastProblem);
        urls.failed(url, describe(e));
      }
    }
    return new AuthResult.Unavailable("no LDAP server answered (" + lastProblem + ")");
  }

  /** Whether logins ask {@code url} first: not backed off. */
  public boolean up(String url) {
    return urls.up(url);
  }

  /** The configured server URLs, in order. */
  public List<String> urls() {
    return config.urls();
  }

  /** Ready while one server answers a read of its root DSE within the timeout. */
  @Override
  public Future<Void> ready() {
    return workers.<Boolean>executeBlocking(() -> {
      List<String> order = urls.order();
      List<String> problems = new ArrayList<>();
      for (int i = 0; i < order.size(); i++) {
        String url = order.get(i);
        if (!urls.take(url) && (!problems.isEmpty() || i < order.size() - 1)) {
          continue;
        }
        try {
          LdapServer server = servers.get(url);
          if (config.directBind()) {
            server.bind(c -> c.getRootDSE());
          } else {
            server.search(c -> c.getRootDSE());
          }
          urls.succeeded(url);
          return true;
        } catch (LDAPException e) {
          problems.add(describe(e));
          urls.failed(url, describe(e));
        }
      }
      return false;
    }, false).compose(up -> up ? Future.succeededFuture()
        : Future.failedFuture("no LDAP server answers"));
  }

  @Override
  public Future<Void> close() {
    // Closing a pool ends its connections politely (an unbind each): not on an event loop.
    return vertx.executeBlocking(() -> {
      servers.values().forEach(LdapServer::close);
      return null;
    }, false).eventually(workers::close).mapEmpty();
  }

  /** The result code and the SDK's message, short; never a password (the SDK holds none). */
  static String describe(LDAPException e) {
    // The deepest cause says what went wrong (a refused connection, a certificate's name).
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root == e ? e.getMessage()
        : root.getClass().getSimpleName() + ": " + root.getMessage();
    ResultCode code = e.getResultCode();
    String text = code.getName() + (m == null ? "" : ": " + m);
    return text.length() > 160 ? text.substring(0, 160) : text;
  }
}
