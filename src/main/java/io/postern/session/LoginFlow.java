package io.postern.session;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.Credentials;
import io.postern.auth.Secret;
import io.postern.backend.BackendLoginException;
import io.postern.backend.BackendSession;
import io.postern.backend.BackendTarget;
import io.postern.config.Protocol;
import io.postern.listener.ListenerContext;
import io.postern.metrics.BackendMeters;
import io.postern.metrics.ProtocolMeters;
import io.postern.metrics.ProtocolMeters.LoginResult;
import io.postern.session.LoginOutcome.Failed;
import io.postern.session.LoginOutcome.Failure;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One login attempt, the same for IMAP and POP3: sanity checks, the auth source, the failure
 * delay, then the protocol's backend login. Failed logins are logged one line each, with the
 * client address and never the password, so that fail2ban-style tools can act on them.
 */
public final class LoginFlow {

  private static final Logger LOG = LoggerFactory.getLogger("postern.login");

  /** A user name longer than this is not a user name. */
  static final int MAX_USER_BYTES = 256;
  /**
   * Nor is a longer password a password: escaped, it could pass the header limits of an auth
   * service (nginx: 8 KB), whose refusal would look like an outage, not a wrong password.
   */
  static final int MAX_PASSWORD_BYTES = 1024;

  /** The protocol-specific part: log in at a backend. */
  @FunctionalInterface
  public interface BackendLogin {
    Future<BackendSession> login(BackendTarget target, String user, Secret password);
  }

  private LoginFlow() {}

  public static Future<LoginOutcome> run(ClientConnection conn, Protocol protocol,
      String mechanism, Credentials credentials, int attempt, BackendLogin backendLogin) {
    ProtocolMeters meters = conn.context().meters().protocol(protocol);
    // Repeated failures from this address or for this name: the answer waits (Dovecot's auth
    // penalty). Waiting before asking, not after, holds no backend connection meanwhile.
    Duration penalty = conn.context().throttle().penalty(conn.clientAddress(),
        credentials.user());
    return wait(conn, penalty)
        .compose(v -> attempt(conn, protocol, mechanism, credentials, attempt, backendLogin))
        .andThen(ar -> {
          LoginResult result = ar.failed() ? LoginResult.UNAVAILABLE : resultOf(ar.result());
          meters.login(mechanism, result == LoginResult.FAILURE && !penalty.isZero()
              ? LoginResult.THROTTLED : result);
        });
  }

  private static Future<Void> wait(ClientConnection conn, Duration delay) {
    if (delay.isZero()) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    conn.context().vertx().setTimer(delay.toMillis(), id -> done.complete());
    return done.future();
  }

  /** Counts a password refused because it came before TLS; the auth source is never asked. */
  public static void cleartextRefused(ClientConnection conn, Protocol protocol,
      String mechanism) {
    conn.context().meters().protocol(protocol).login(mechanism, LoginResult.CLEARTEXT_REFUSED);
  }

  private static LoginResult resultOf(LoginOutcome outcome) {
    if (outcome instanceof LoginOutcome.LoggedIn) {
      return LoginResult.SUCCESS;
    }
    return switch (((Failed) outcome).failure()) {
      case BAD_CREDENTIALS, DISABLED -> LoginResult.FAILURE;
      case UNAVAILABLE -> LoginResult.UNAVAILABLE;
      case IN_USE -> LoginResult.IN_USE;
    };
  }

  private static Future<LoginOutcome> attempt(ClientConnection conn, Protocol protocol,
      String mechanism, Credentials credentials, int attempt, BackendLogin backendLogin) {
    ListenerContext context = conn.context();
    conn.user(credentials.user());
    if (!plausible(credentials)) {
      return failAfterDelay(conn, mechanism, credentials, Failure.BAD_CREDENTIALS, null,
          Duration.ZERO, "malformed user name or password");
    }
    AuthRequest request = new AuthRequest(protocol, mechanism, credentials, conn.clientIp(),
        conn.tlsProtocol(), conn.tlsCipher(), attempt);
    return context.authenticator().authenticate(request).compose(result -> {
      if (result instanceof AuthResult.Rejected rejected) {
        Failure failure = rejected.disabledReason() == null ? Failure.BAD_CREDENTIALS
            : Failure.DISABLED;
        return failAfterDelay(conn, mechanism, credentials, failure,
            rejected.disabledReason() == null ? null : printable(rejected.disabledReason()),
            rejected.delay(), (failure == Failure.DISABLED ? "account disabled" : "bad credentials")
                + (rejected.sourceText() == null ? ""
                : " (" + context.authenticator().source() + ": " + rejected.sourceText() + ")"));
      }
      if (result instanceof AuthResult.Unavailable unavailable) {
        context.meters().authError();
        logFailure(conn, mechanism, credentials, "auth source unavailable: " + unavailable.why());
        return Future.succeededFuture(new Failed(Failure.UNAVAILABLE, null));
      }
      AuthResult.Accepted accepted = (AuthResult.Accepted) result;
      BackendTarget target = context.backends().resolve(accepted.route(), protocol);
      if (target == null) {
        logFailure(conn, mechanism, credentials,
            "route names unknown backend '" + accepted.route().backend() + "'");
        return Future.succeededFuture(new Failed(Failure.UNAVAILABLE, null));
      }
      conn.backend(target.backend());
      return backendLogin.login(target, accepted.backendUser(), accepted.backendPassword())
          .<LoginOutcome>map(session -> {
            context.throttle().succeeded(conn.clientAddress(), credentials.user());
            return new LoginOutcome.LoggedIn(session);
          })
          .recover(e -> backendFailed(conn, mechanism, credentials, e));
    });
  }

  private static Future<LoginOutcome> backendFailed(ClientConnection conn, String mechanism,
      Credentials credentials, Throwable e) {
    BackendMeters meters = conn.context().meters().backend(conn.backend());
    if (!(e instanceof BackendLoginException failure)) {
      meters.error(BackendMeters.Error.PROTOCOL);
      LOG.error("session={} backend login failed unexpectedly", conn.id(), e);
      return Future.succeededFuture(new Failed(Failure.UNAVAILABLE, null));
    }
    return switch (failure.kind()) {
      case REJECTED -> failAfterDelay(conn, mechanism, credentials, Failure.BAD_CREDENTIALS, null,
          Duration.ZERO, "backend rejected the login: " + failure.getMessage());
      case IN_USE -> {
        logFailure(conn, mechanism, credentials, failure.getMessage());
        yield Future.succeededFuture(new Failed(Failure.IN_USE, null));
      }
      default -> {
        meters.error(switch (failure.kind()) {
          case TIMEOUT -> BackendMeters.Error.TIMEOUT;
          case PROTOCOL -> BackendMeters.Error.PROTOCOL;
          case TLS -> BackendMeters.Error.TLS;
          case UNAVAILABLE -> BackendMeters.Error.UNAVAILABLE;
          default -> BackendMeters.Error.UNREACHABLE;
        });
        logFailure(conn, mechanism, credentials, "backend " + failure.kind().name()
            .toLowerCase(java.util.Locale.ROOT) + ": " + failure.getMessage());
        yield Future.succeededFuture(new Failed(Failure.UNAVAILABLE, null));
      }
    };
  }

  private static Future<LoginOutcome> failAfterDelay(ClientConnection conn, String mechanism,
      Credentials credentials, Failure failure, String userText, Duration extraWait,
      String why) {
    logFailure(conn, mechanism, credentials, why);
    // Counted at once: parallel connections must not guess on during the delay below.
    conn.context().throttle().failed(conn.clientAddress(), credentials.user());
    Duration delay = conn.context().config().auth().failureDelay().plus(extraWait);
    Promise<LoginOutcome> done = Promise.promise();
    LoginOutcome outcome = new Failed(failure, userText);
    if (delay.isZero()) {
      done.complete(outcome);
    } else {
      conn.context().vertx().setTimer(delay.toMillis(), id -> done.complete(outcome));
    }
    return done.future();
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
  private static boolean plausible(Credentials credentials) {
    String user = credentials.user();
    if (user.isEmpty() || user.getBytes(StandardCharsets.UTF_8).length > MAX_USER_BYTES) {
      return false;
    }
    for (int i = 0; i < user.length(); i++) {
      char c = user.charAt(i);
      if (c < 0x20 || c == 0x7f || c == '\ufffd') {
        return false;
      }
    }
    return !credentials.password().isEmpty()
        && credentials.password().length() <= MAX_PASSWORD_BYTES
        && !credentials.password().hasLineBreakOrNul();
  }

  private static void logFailure(ClientConnection conn, String mechanism,
      Credentials credentials, String why) {
    new LogLine()
        .text("session", conn.id())
        .text("listener", conn.context().listener().name())
        .text("client", conn.clientIp())
        .text("user", credentials.user())
        .text("mechanism", mechanism)
        .text("reason", why, 400)
        .info(LOG, "login failed:");
  }
}
