package io.postern.pop3;

import io.postern.credentials.BackendCredentials;
import io.postern.backend.BackendConnector;
import io.postern.backend.BackendSession;
import io.postern.backend.BackendTarget;
import io.postern.config.LimitsConfig;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.sasl.SaslMechanism;
import io.postern.session.ClientDecoder;
import io.postern.session.ClientSession;
import io.postern.session.Goodbye;
import io.postern.session.LoginOutcome;
import io.postern.session.LoginOutcome.Failure;
import io.postern.session.MailProtocol;
import io.vertx.core.Future;
import java.util.Set;

/**
 * POP3's AUTHORIZATION state (RFC 1939, 2449, 5034) as {@link ClientSession} needs it: the
 * commands Postern answers itself, its replies with RFC 2449/3206 codes, and the backend login.
 * POP3 has no tags and no untagged lines. One per connection: it remembers the USER name until
 * PASS.
 */
public final class Pop3Protocol implements MailProtocol<Pop3Request> {

  private String user;

  @Override
  public ClientDecoder<Pop3Request> decoder(LimitsConfig limits) {
    return new Pop3Decoder(limits.maxLine());
  }

  @Override
  public String greeting(ClientSession<Pop3Request> session) {
    return "+OK Postern ready.\r\n";
  }

  @Override
  public void command(Pop3Request request, ClientSession<Pop3Request> session) {
    if (request instanceof Pop3Request.Capa) {
      session.write(capa(session));
    } else if (request instanceof Pop3Request.Stls) {
      session.startTls(null);
    } else if (request instanceof Pop3Request.Quit) {
      session.end(ok(null, "Logging out."), "quit");
    } else if (request instanceof Pop3Request.User u) {
      user(u.name(), session);
    } else if (request instanceof Pop3Request.Pass p) {
      pass(p, session);
    } else if (request instanceof Pop3Request.Auth a) {
      auth(a, session);
    } else {
      session.bad(null, ((Pop3Request.Invalid) request).message());
    }
  }

  /**
   * What clients are told the backends offer while nothing is known of them: nginx's
   * {@code pop3_capabilities} default (TOP USER UIDL; USER is Postern's own here) and the
   * PIPELINING Postern always announced. Clients such as Jakarta Mail read CAPA only before
   * login: without UIDL they cannot leave mail on the server and keep track of it, without TOP
   * they download whole messages to read headers. Nearly every POP3 server has both (RFC 2449
   * lists them; Dovecot, Courier, Cyrus and qpopper all do), so assuming them costs a rare
   * {@code -ERR} where not announcing them costs every such client, every time.
   */
  static final Set<String> ASSUMED = Set.of("TOP", "UIDL", "PIPELINING");

  /**
   * The backend extensions that mean something before login for the session after it. Not the
   * ones that are Postern's own (STLS, SASL, USER, RESP-CODES, AUTH-RESP-CODE: the login is
   * Postern's), nor IMPLEMENTATION or XCLIENT (the backend's business), nor UTF8 and LANG,
   * whose commands RFC 6856 allows before login, where Postern does not answer them. PIPELINING
   * follows the backends: Postern's own decoder takes pipelined commands before login, but a
   * client that saw it there pipelines after login too, when the backend reads its commands.
   */
  static boolean passable(String capability) {
    // Whole lines, exactly as RFC 2449 §6 spells them: a backend's other bytes never reach a
    // client that has not logged in.
    return PASSABLE.matcher(capability).matches();
  }

  /** TOP, UIDL, PIPELINING; EXPIRE and LOGIN-DELAY with their argument (RFC 2449 §6.5, §6.7). */
  private static final java.util.regex.Pattern PASSABLE = java.util.regex.Pattern.compile(
      "TOP|UIDL|PIPELINING|EXPIRE (NEVER|[0-9]{1,9})( USER)?|LOGIN-DELAY [0-9]{1,9}( USER)?");

  /** RFC 2449 CAPA; USER and SASL only where a password may be sent (RFC 2595 §2.2). */
  private static String capa(ClientSession<Pop3Request> session) {
    StringBuilder out = new StringBuilder("+OK Capability list follows.\r\n");
    if (session.startTlsOffered()) {
      out.append("STLS\r\n");
    }
    if (session.passwordsOffered()) {
      out.append("USER\r\n");
    }
    if (!mechanisms(session).isEmpty()) {
      out.append("SASL ").append(String.join(" ", mechanisms(session))).append("\r\n");
    }
    out.append("RESP-CODES\r\nAUTH-RESP-CODE\r\n");
    session.backendCapabilities(ASSUMED, Pop3Protocol::passable)
        .forEach(capability -> out.append(capability).append("\r\n"));
    return out.append("IMPLEMENTATION Postern\r\n.\r\n").toString();
  }

  private void user(String name, ClientSession<Pop3Request> session) {
    if (session.cleartextRefused()) {
      // No password yet, so no attempt is spent.
      session.write(cleartextRefused());
    } else if (!session.passwordsOffered()) {
      session.refusePasswords(null, "USER");
    } else {
      user = name;
      session.write("+OK\r\n");
    }
  }

  private void pass(Pop3Request.Pass pass, ClientSession<Pop3Request> session) {
    String name = user;
    user = null;
    if (session.cleartextRefused()) {
      session.refuseCleartext(null, "USER");
    } else if (name == null) {
      session.bad(null, "No USER given.");
    } else {
      session.login(null, "USER", new Credentials(name, pass.password()));
    }
  }

  private void auth(Pop3Request.Auth auth, ClientSession<Pop3Request> session) {
    if (auth.mechanism() != null) {
      session.authenticate(null, auth.mechanism(), auth.initialResponse());
    } else if (session.cleartextRefused()) {
      // Only asks which mechanisms exist: no password was offered, so no attempt is spent.
      session.write(cleartextRefused());
    } else {
      session.write("+OK\r\n" + String.join("\r\n", mechanisms(session)) + "\r\n.\r\n");
    }
  }

  /**
   * The SASL mechanisms offered here: PLAIN and LOGIN where passwords are; the bearer-token ones
   * after TLS, where verified; EXTERNAL with a verified client certificate that maps to a user.
   */
  private static java.util.List<String> mechanisms(ClientSession<Pop3Request> session) {
    if (session.passwordsOffered() && !session.tokensOffered() && !session.externalOffered()) {
      return SaslMechanism.NAMES;
    }
    java.util.List<String> all = new java.util.ArrayList<>();
    if (session.passwordsOffered()) {
      all.addAll(SaslMechanism.NAMES);
    }
    if (session.tokensOffered()) {
      all.addAll(SaslMechanism.TOKEN_NAMES);
    }
    if (session.externalOffered()) {
      all.add("EXTERNAL");
    }
    return all;
  }

  private String cleartextRefused() {
    return loginFailed(null, LoginOutcome.Failed.cleartextRefused(startTlsCommand()));
  }

  @Override
  public String startTlsCommand() {
    return "STLS";
  }

  @Override
  public Future<BackendSession> backendLogin(BackendConnector backends, BackendTarget target,
      String tag, BackendCredentials credentials) {
    return Pop3BackendLogin.login(backends, target, credentials);
  }

  @Override
  public String ok(String tag, String text) {
    return "+OK " + text + "\r\n";
  }

  @Override
  public String no(String tag, String text) {
    return "-ERR " + text + "\r\n";
  }

  @Override
  public String bad(String tag, String text) {
    return no(tag, text);
  }

  /**
   * RFC 3206: {@code AUTH} when the credentials are at fault, {@code SYS/TEMP} and
   * {@code SYS/PERM} when the system is; RFC 2449's {@code IN-USE} for a locked maildrop.
   */
  @Override
  public String loginFailed(String tag, LoginOutcome.Failed failed) {
    Failure failure = failed.failure();
    String code = failure == Failure.IN_USE ? "IN-USE"
        : failure == Failure.UNAVAILABLE || failure == Failure.THROTTLED ? "SYS/TEMP"
        : failure == Failure.DISABLED ? "SYS/PERM"
        : "AUTH";
    return "-ERR [" + code + "] " + failed.text() + "\r\n";
  }

  /**
   * POP3 has no untagged goodbye: it takes the place of the reply. Anything that is not the
   * client's own doing is a temporary failure ({@code SYS/TEMP}), so clients try again later.
   */
  @Override
  public String goodbye(Goodbye why, String reply) {
    boolean clientsDoing = why == Goodbye.TOO_MANY_ERRORS || why == Goodbye.LINE_TOO_LONG
        || why == Goodbye.LITERAL_TOO_BIG || why == Goodbye.PREAUTH_TIMEOUT
        || why == Goodbye.CERTIFICATE_REQUIRED || why == Goodbye.CERTIFICATE_INVALID;
    // A POP3 line has no literals; a literal's limit cannot be reached here.
    String text = why == Goodbye.LITERAL_TOO_BIG ? Goodbye.LINE_TOO_LONG.text() : why.text();
    return no(null, (clientsDoing ? "" : "[SYS/TEMP] ") + text);
  }
}
