package io.postern.session;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.LoginGate;
import io.postern.auth.MasterName;
import io.postern.backend.BackendLoginException;
import io.postern.backend.BackendPools;
import io.postern.backend.BackendSession;
import io.postern.backend.BackendTarget;
import io.postern.config.MasterConfig;
import io.postern.config.Protocol;
import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.metrics.BackendMeters;
import io.postern.metrics.ProtocolMeters.LoginResult;
import io.postern.sasl.SaslMechanism;
import io.postern.sasl.SaslOAuthBearer;
import io.postern.session.LoginOutcome.Failed;
import io.postern.session.LoginOutcome.Failure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One login attempt, the same for every protocol: the login gate (the throttle's penalty and
 * in-flight bounds), sanity checks, the auth source, the failure delay, then the protocol's
 * backend login. It is counted once in {@code postern_logins_total}, and a failed one is logged
 * in one line, with the client address and never the password, so that fail2ban-style tools can
 * act on it.
 *
 * <p>A refusal is answered {@code auth.failure-delay} (plus what the source asked for) after the
 * gate let the login through, which is when the command arrived unless a penalty held it: the
 * check runs inside that window, so the answer's time does not depend on who the user is, on
 * the hash scheme, or on a cache hit. Only a check that outlasts the window answers later.
 */
final class LoginAttempt {

  private static final Logger LOG = LoggerFactory.getLogger("postern.login");
  private static final Logger MASTER_LOG = LoggerFactory.getLogger("postern.master");

  /** A user name longer than this is not a user name. */
  static final int MAX_USER_BYTES = 256;
  /**
   * Nor is a longer password a password: escaped, it could pass the header limits of an auth
   * service (nginx: 8 KB), whose refusal would look like an outage, not a wrong password.
   */
  static final int MAX_PASSWORD_BYTES = 1024;
  /**
   * A bearer token may be longer (JWTs are often 1 to 4 KB). A SASL-IR line holds the token
   * base64-encoded, so the default {@code limits.max-line} (8192) takes tokens of about 6 KB;
   * the limit lets a larger max-line take larger ones.
   */
  static final int MAX_TOKEN_BYTES = SaslMechanism.MAX_TOKEN_BYTES;

  /** The protocol's part: log in at a backend. */
  @FunctionalInterface
  interface BackendLogin {
    Future<BackendSession> login(BackendTarget target, BackendCredentials credentials);
  }

  private final ListenerContext context;
  private final SessionRecord record;
  private final Protocol protocol;
  private final String mechanism;
  private final Credentials credentials;
  /** The client's secret is a bearer token (XOAUTH2, OAUTHBEARER), not a password. */
  private final boolean token;
  /** {@code customer*master} split, for a master login ({@code auth.master}); else null. */
  private final MasterName masterName;
  /**
   * The name the throttle counts failures under: the user; for a token without one (an
   * OAUTHBEARER without authzid) the token's hash, so that such logins do not all share a name;
   * for a master login the master's, as the secret guessed is the master's password.
   */
  private final String throttleName;
  private final int number;
  /** When the command (or the last SASL response) arrived. */
  private final long commandNanos = System.nanoTime();
  private LoginGate.Ticket ticket;
  /** When a refusal is answered, before any delay the source asks for. */
  private long answerAt;
  private boolean penalized;
  /** Why the login failed, as its "login failed" line says. */
  private String failure;

  /** {@code number} counts the connection's attempts from 1 (nginx's Auth-Login-Attempt). */
  LoginAttempt(ListenerContext context, SessionRecord record, Protocol protocol,
      String mechanism, Credentials credentials, int number) {
    this.context = context;
    this.record = record;
    this.protocol = protocol;
    this.mechanism = mechanism;
    this.credentials = AuthRequest.EXTERNAL.equals(mechanism)
        ? externalUser(context, record, credentials) : credentials;
    this.token = SaslMechanism.carriesToken(mechanism);
    MasterConfig master = context.config().auth().master();
    this.masterName = master == null || token ? null
        : MasterName.split(this.credentials.user(), master.separator());
    // A master's password guessed through many customers ("alice*support", "bob*support", ...)
    // is one name's failures: counted apart from a user who happens to be called "support".
    this.throttleName = token && this.credentials.user().isEmpty()
        ? tokenName(this.credentials.password())
        : masterName != null && masterName.complete()
            ? master.separator() + masterName.master() : this.credentials.user();
    this.number = number;
    this.answerAt = commandNanos + context.config().auth().failureDelay().toNanos();
  }

  /**
   * EXTERNAL's user: the one the certificate names when the client gave no authorization
   * identity; else the one it gave, which must then match the certificate like any login.
   */
  private static Credentials externalUser(ListenerContext context, SessionRecord record,
      Credentials asked) {
    if (!asked.user().isEmpty()) {
      return asked;
    }
    String mapped = CertificateUser.of(context.listener().clientCertificates().user(),
        record.clientCertificate());
    return new Credentials(mapped == null ? "" : mapped, asked.password());
  }

  /** Never fails: a fault of Postern's own ends as {@link Failure#UNAVAILABLE}. */
  Future<LoginOutcome> run(BackendLogin backendLogin) {
    record.user(credentials.user());
    // Repeated failures from this address or for this name: the login waits its turn (Dovecot's
    // auth penalty). Waiting before asking, not after, holds no backend connection meanwhile.
    ticket = context.gate().enter(record.clientAddress(), throttleName, commandNanos);
    return ticket.admitted()
        .transform(admitted -> {
          if (admitted.succeeded()) {
            penalized = admitted.result().penalized();
            answerAt = admitted.result().admittedNanos()
                + context.config().auth().failureDelay().toNanos();
            return attempt(backendLogin);
          }
          if (admitted.cause() instanceof LoginGate.Refused refused) {
            logFailure(refused.getMessage());
            return answerAt(answerAt).map(v -> Failed.of(Failure.THROTTLED));
          }
          return Future.failedFuture(admitted.cause());
        })
        .otherwise(e -> {
          if (e instanceof LoginGate.Cancelled) {
            // The client left while the throttle held its login; nobody reads this outcome.
            return Failed.of(Failure.THROTTLED);
          }
          LOG.error("session={} login failed unexpectedly", record.id(), e);
          return Failed.of(Failure.UNAVAILABLE);
        })
        .andThen(ar -> {
          ticket.release();
          logMasterLogin(ar.result());
          LoginResult result = resultOf(ar.result());
          context.meters().protocol(protocol).login(mechanism,
              result == LoginResult.FAILURE && penalized ? LoginResult.THROTTLED : result);
        });
  }

  /** The client left: a login still waiting for its turn gives it up. */
  void cancel() {
    if (ticket != null) {
      ticket.cancel();
    }
  }

  private Future<LoginOutcome> attempt(BackendLogin backendLogin) {
    if (!plausible()) {
      return failAfterDelay(Failed.of(Failure.BAD_CREDENTIALS), Duration.ZERO,
          "malformed user name or password");
    }
    String mismatch = CertificateUser.mismatch(context.listener().clientCertificates().user(),
        record.clientCertificate(), credentials.user());
    if (mismatch != null) {
      return failAfterDelay(Failed.of(Failure.BAD_CREDENTIALS), Duration.ZERO, mismatch);
    }
    if (external() && CertificateUser.of(context.listener().clientCertificates().user(),
        record.clientCertificate()) == null) {
      return failAfterDelay(Failed.of(Failure.BAD_CREDENTIALS), Duration.ZERO,
          "EXTERNAL without a verified client certificate that names a user");
    }
    AuthRequest request = new AuthRequest(protocol, mechanism, credentials, record.clientIp(),
        record.tlsProtocol(), record.tlsCipher(), number, record.clientCertificate());
    return context.authenticator().authenticate(request).compose(result -> {
      if (result instanceof AuthResult.Rejected rejected) {
        return rejected(rejected);
      }
      if (result instanceof AuthResult.Unavailable unavailable) {
        context.meters().authError();
        logFailure("auth source unavailable: " + unavailable.why());
        // As late as a wrong password: a refusal's time must not tell the user's hash apart
        // (an expensive one is refused more often when the hashing queue is full).
        return answerAt(answerAt).map(v -> Failed.of(Failure.UNAVAILABLE));
      }
      return accepted((AuthResult.Accepted) result, backendLogin);
    });
  }

  private Future<LoginOutcome> rejected(AuthResult.Rejected rejected) {
    boolean disabled = rejected.disabledReason() != null;
    String source = rejected.sourceText() == null ? ""
        : " (" + context.authenticator().source() + ": " + rejected.sourceText() + ")";
    return failAfterDelay(disabled
            ? new Failed(Failure.DISABLED, printable(rejected.disabledReason()))
            : Failed.of(Failure.BAD_CREDENTIALS),
        rejected.delay(), (disabled ? "account disabled" : "bad credentials") + source);
  }

  private Future<LoginOutcome> accepted(AuthResult.Accepted accepted, BackendLogin backendLogin) {
    if (external() && accepted.credentials().secret() != null
        && accepted.credentials().secret().isEmpty()) {
      // The client gave no password: the source must say how to log in at the backend.
      logFailure("EXTERNAL accepted by the auth source, but it gave no password (Auth-Pass)"
          + " for the backend login");
      return Future.succeededFuture(Failed.of(Failure.UNAVAILABLE));
    }
    if (accepted.identity() != null) {
      // Who logged in, as the source names them: the session's logs carry this name.
      record.user(accepted.identity());
    }
    String backend = accepted.route().backend();
    // The rewritten name places the user: it is the mailbox's name at the backend.
    List<BackendTarget> targets = context.backends().pools()
        .candidates(accepted.route(), protocol, accepted.credentials().mailbox());
    if (targets == null) {
      logFailure("route names unknown backend '" + backend + "'");
      return Future.succeededFuture(Failed.of(Failure.UNAVAILABLE));
    }
    record.backend(backend);
    if (targets.isEmpty()) {
      context.meters().backend(backend).error(BackendMeters.Error.UNAVAILABLE);
      logFailure("backend " + backend + " has no live server for " + protocol.id());
      return Future.succeededFuture(Failed.of(Failure.UNAVAILABLE));
    }
    long deadline = System.nanoTime() + context.config().limits().backendLoginTimeout().toNanos();
    return tryServer(targets, 0, deadline, accepted, backendLogin);
  }

  /**
   * Logs in at {@code targets[i]}; when that server cannot be reached or will not serve anyone,
   * at the next one, while the login's deadline lasts. Once a server has the credentials, its
   * answer is final: a wrong password is never asked of a second server.
   */
  private Future<LoginOutcome> tryServer(List<BackendTarget> targets, int i, long deadline,
      AuthResult.Accepted accepted, BackendLogin backendLogin) {
    BackendTarget target = targets.get(i).forLogin(record.origin(), deadline);
    BackendPools pools = context.backends().pools();
    record.server(target.server());
    return backendLogin.login(target, accepted.credentials())
        .<LoginOutcome>map(session -> {
          pools.succeeded(target, protocol);
          record.heldAtServer(pools.get(target.backend()).opened(target));
          context.gate().throttle().succeeded(record.clientAddress(), throttleName);
          if (accepted.identity() != null && !accepted.identity().equals(throttleName)) {
            // The source named the user (from the token): that name's failures are forgiven.
            context.gate().throttle().succeeded(record.clientAddress(), accepted.identity());
          }
          return new LoginOutcome.LoggedIn(session);
        })
        .recover(e -> {
          if (!(e instanceof BackendLoginException failure) || !failure.serverFault()) {
            return backendFailed(e);
          }
          pools.failed(target, protocol, failure.getMessage());
          countError(target.backend(), failure);
          if (i + 1 >= targets.size() || System.nanoTime() >= deadline) {
            logFailure("backend " + failure.kind().name().toLowerCase(Locale.ROOT) + ": "
                + failure.getMessage());
            return Future.succeededFuture(Failed.of(Failure.UNAVAILABLE));
          }
          context.meters().backend(target.backend()).failover();
          LOG.info("session={} backend={} server={} failed ({}), trying server={}", record.id(),
              target.backend(), target.server(), failure.getMessage(), targets.get(i + 1)
                  .server());
          return tryServer(targets, i + 1, deadline, accepted, backendLogin);
        });
  }

  private Future<LoginOutcome> backendFailed(Throwable e) {
    if (!(e instanceof BackendLoginException failure)) {
      context.meters().backend(record.backend()).error(BackendMeters.Error.PROTOCOL);
      LOG.error("session={} backend login failed unexpectedly", record.id(), e);
      return Future.succeededFuture(Failed.of(Failure.UNAVAILABLE));
    }
    switch (failure.kind()) {
      case REJECTED:
        return failAfterDelay(Failed.of(Failure.BAD_CREDENTIALS), Duration.ZERO,
            "backend rejected the login: " + failure.getMessage());
      case IN_USE:
        logFailure(failure.getMessage());
        return Future.succeededFuture(Failed.of(Failure.IN_USE));
      default:
        countError(record.backend(), failure);
        logFailure("backend " + failure.kind().name().toLowerCase(Locale.ROOT) + ": "
            + failure.getMessage());
        return Future.succeededFuture(Failed.of(Failure.UNAVAILABLE));
    }
  }

  private void countError(String backend, BackendLoginException failure) {
    context.meters().backend(backend).error(switch (failure.kind()) {
      case TIMEOUT -> BackendMeters.Error.TIMEOUT;
      case PROTOCOL -> BackendMeters.Error.PROTOCOL;
      case TLS -> BackendMeters.Error.TLS;
      case UNAVAILABLE -> BackendMeters.Error.UNAVAILABLE;
      default -> BackendMeters.Error.UNREACHABLE;
    });
  }

  /** Answers {@code auth.failure-delay} after the command, plus what the source asked for. */
  private Future<LoginOutcome> failAfterDelay(Failed outcome, Duration extraWait, String why) {
    logFailure(why);
    // Counted at once: logins waiting behind this one must see it when their turn comes.
    context.gate().throttle().failed(record.clientAddress(), throttleName);
    return answerAt(answerAt + extraWait.toNanos()).map(v -> outcome);
  }

  /** Completes at {@code nanos} ({@link System#nanoTime}), at once if that has passed. */
  private Future<Void> answerAt(long nanos) {
    long wait = nanos - System.nanoTime();
    if (wait <= 0) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    // Rounded up: never answered before the time.
    context.vertx().setTimer((wait + 999_999) / 1_000_000, id -> done.complete());
    return done.future();
  }

  private static LoginResult resultOf(LoginOutcome outcome) {
    if (outcome instanceof LoginOutcome.LoggedIn) {
      return LoginResult.SUCCESS;
    }
    return switch (((Failed) outcome).failure()) {
      case BAD_CREDENTIALS, DISABLED, PASSWORDS_REFUSED -> LoginResult.FAILURE;
      case CLEARTEXT_REFUSED -> LoginResult.CLEARTEXT_REFUSED;
      case UNAVAILABLE -> LoginResult.UNAVAILABLE;
      case IN_USE -> LoginResult.IN_USE;
      case THROTTLED -> LoginResult.THROTTLED;
    };
  }

  /** An account's reason for a reply: one line, printable, at most 200 characters. */
  static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < text.length() && out.length() < 200; i++) {
      char c = text.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    return out.toString();
  }

  /** Names nobody can have and passwords no protocol can carry never reach the auth source. */
  private boolean plausible() {
    String user = credentials.user();
    // OAUTHBEARER's authzid is optional: the source names the user from the token.
    boolean nameless = token && mechanism.equalsIgnoreCase(SaslOAuthBearer.NAME);
    if (user.isEmpty() && !nameless
        || user.getBytes(StandardCharsets.UTF_8).length > MAX_USER_BYTES) {
      return false;
    }
    for (int i = 0; i < user.length(); i++) {
      char c = user.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\ufffd') {
        return false;
      }
    }
    // EXTERNAL has no password: the certificate stands in for it.
    return (!credentials.password().isEmpty() || external())
        && credentials.password().length() <= (token ? MAX_TOKEN_BYTES : MAX_PASSWORD_BYTES)
        && !credentials.password().hasLineBreakOrNul();
  }

  /**
   * The audit line of a master login ({@code auth.master}), one per attempt, success or not, on
   * {@code postern.master}; a failure also gets the usual "login failed" line.
   */
  private void logMasterLogin(LoginOutcome outcome) {
    MasterName name = masterName;
    if (name == null) {
      return;
    }
    boolean success = outcome instanceof LoginOutcome.LoggedIn;
    context.meters().masterLogin(success);
    LogLine line = new LogLine()
        .text("session", record.id())
        .text("listener", record.listener().name())
        .text("client", record.clientIp())
        .text("customer", name.customer())
        .text("master", name.master())
        .text("mechanism", mechanism)
        .text("backend", record.backend());
    if (success) {
      line.info(MASTER_LOG, "master login:");
    } else {
      line.text("reason", failure, 400).info(MASTER_LOG, "master login failed:");
    }
  }

  /** A name for the throttle that is no secret: a short hash of the token. */
  private static String tokenName(Secret token) {
    try {
      byte[] hash = java.security.MessageDigest.getInstance("SHA-256").digest(token.bytes());
      return "token:" + java.util.HexFormat.of().formatHex(hash, 0, 12);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private boolean external() {
    return AuthRequest.EXTERNAL.equals(mechanism);
  }

  private void logFailure(String why) {
    failure = why;
    new LogLine()
        .text("session", record.id())
        .text("listener", record.listener().name())
        .text("client", record.clientIp())
        .text("user", credentials.user())
        .text("mechanism", mechanism)
        .text("reason", why, 400)
        .info(LOG, "login failed:");
  }
}
