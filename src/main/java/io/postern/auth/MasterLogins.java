package io.postern.auth;

import io.postern.config.AuthConfig;
import io.postern.config.BackendConfig;
import io.postern.config.MasterConfig;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Master users, Dovecot's way, around the configured auth source: a login as
 * {@code customer*master} (the separator is {@code auth.master.separator}) is checked as
 * {@code master} with the client's password against the master passwd-file
 * ({@code auth.master.passwd-file}, hashed in the source's {@link HashingQueue}), then the
 * customer is looked up in the source without a password ({@link Authenticator#lookup}), and
 * the answer opens the customer's mailbox with the customer's backend's master user
 * ({@code backends.<name>.master}). Every other name goes to the source unchanged.
 *
 * <p>It sits inside the auth cache, so a master login is cached like any login (under an HMAC of
 * the full name and the master's password); the cache is emptied when the master file, the
 * source's users or a backend's master credentials change.
 */
public final class MasterLogins implements Authenticator {

  private static final Secret NO_PASSWORD = Secret.of(new byte[0]);

  private final Authenticator source;
  private final PasswdFileAuthenticator masters;
  private final String separator;
  private volatile Map<String, BackendConfig.Master> backendMasters;
  private volatile Runnable onChange = () -> { };

  MasterLogins(Authenticator source, PasswdFileAuthenticator masters, String separator,
      Map<String, BackendConfig> backends) {
    this.source = source;
    this.masters = masters;
    this.separator = separator;
    this.backendMasters = mastersOf(backends);
  }

  /**
   * Reads the master passwd-file (on a worker) and wraps {@code source}. The master file's
   * checks wait in the source's hashing queue when it has one (one budget for all hashing),
   * else in a queue of their own with {@code auth.hashing}'s limits. Fails with a message
   * naming the file and line.
   */
  public static Future<MasterLogins> load(Vertx vertx, MasterConfig config,
      Authenticator source, Map<String, BackendConfig> backends, AuthConfig.Hashing hashing,
      Predicate<InetAddress> trusted) {
    HashingQueue queue = source instanceof PasswdFileAuthenticator passwd ? passwd.hashing()
        : new HashingQueue(vertx, hashing, trusted);
    return PasswdFileAuthenticator.load(vertx, config.passwdFile(), backends.keySet(), queue)
        .map(file -> new MasterLogins(source, file, config.separator(), backends));
  }

  /** The source it wraps. */
  public Authenticator wrapped() {
    return source;
  }

  /** The master passwd-file. */
  public PasswdFileAuthenticator masters() {
    return masters;
  }

  /**
   * The backends' master users from a (re)loaded configuration, their passwords read; a change
   * empties the auth cache, whose answers hold the old ones.
   */
  public void backendMasters(Map<String, BackendConfig> backends) {
    Map<String, BackendConfig.Master> next = mastersOf(backends);
    if (!next.equals(backendMasters)) {
      backendMasters = next;
      onChange.run();
    }
  }

  @Override
  public String source() {
    return source.source();
  }

  /** As the source: EXTERNAL logins go to the source. */
  @Override
  public boolean decidesExternal() {
    return source.decidesExternal();
  }

  @Override
  public boolean checksPasswords() {
    return source.checksPasswords();
  }

  /** As the source: a master login is a password login, and tokens go to the source. */
  @Override
  public boolean verifiesTokens() {
    return source.verifiesTokens();
  }

  @Override
  public Future<Void> ready() {
    return source.ready();
  }

  @Override
  public void onChange(Runnable action) {
    onChange = action;
    source.onChange(action);
    masters.onChange(action);
  }

  @Override
  public Future<AuthResult> lookup(AuthRequest request) {
    return source.lookup(request);
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    // A master proves who they are with a password; a token names its own user.
    MasterName name = request.bearerToken() ? null
        : MasterName.split(request.credentials().user(), separator);
    if (name == null) {
      return source.authenticate(request);
    }
    if (!name.complete()) {
      return Future.succeededFuture(new AuthResult.Rejected(null, Duration.ZERO,
          "master login without a customer or a master name"));
    }
    AuthRequest asMaster = withUser(request, name.master(), request.credentials().password());
    return masters.authenticate(asMaster).compose(result -> {
      if (result instanceof AuthResult.Accepted) {
        return customer(request, name);
      }
      if (result instanceof AuthResult.Rejected rejected) {
        return Future.succeededFuture(new AuthResult.Rejected(rejected.disabledReason(),
            rejected.delay(), rejected.disabledReason() != null
                ? "master '" + name.master() + "' is disabled"
                : "master '" + name.master() + "' unknown or wrong master password"));
      }
      return Future.succeededFuture(new AuthResult.Unavailable("master passwd-file: "
          + ((AuthResult.Unavailable) result).why()));
    });
  }

  /** The master's password was right: where the customer lives, and how to open the mailbox. */
  private Future<AuthResult> customer(AuthRequest request, MasterName name) {
    return source.lookup(withUser(request, name.customer(), NO_PASSWORD)).map(found -> {
      if (found instanceof AuthResult.Unavailable unavailable) {
        return new AuthResult.Unavailable("looking up customer '" + name.customer()
            + "' for a master login: " + unavailable.why());
      }
      if (found instanceof AuthResult.Rejected rejected) {
        return rejected.disabledReason() != null
            ? new AuthResult.Rejected(rejected.disabledReason(), Duration.ZERO,
                "customer '" + name.customer() + "' is disabled")
            : new AuthResult.Rejected(null, Duration.ZERO,
                "unknown customer '" + name.customer() + "'");
      }
      AuthResult.Accepted customer = (AuthResult.Accepted) found;
      String backend = customer.route().backend();
      BackendConfig.Master master = backendMasters.get(backend);
      if (master == null) {
        return new AuthResult.Unavailable("backend '" + backend + "' has no master user"
            + " (backends." + backend + ".master): master logins cannot open its mailboxes");
      }
      return new AuthResult.Accepted(customer.route(), master.user(),
          Secret.of(master.password()),
          BackendCredentials.Mechanism.PASSWORD, customer.backendUser(),
          request.credentials().user());
    });
  }

  @Override
  public Future<Void> close() {
    // The queue may be shared with the source; closing it twice is harmless.
    return Future.join(masters.close(), source.close()).mapEmpty();
  }

  private static AuthRequest withUser(AuthRequest request, String user, Secret password) {
    return request.withCredentials(new Credentials(user, password));
  }

  private static Map<String, BackendConfig.Master> mastersOf(Map<String, BackendConfig> backends) {
    Map<String, BackendConfig.Master> out = new HashMap<>();
    backends.forEach((name, backend) -> {
      if (backend.master() != null && backend.master().password() != null) {
        out.put(name, backend.master());
      }
    });
    return Map.copyOf(out);
  }
}
