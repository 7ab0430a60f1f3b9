package io.postern.imap;

import io.postern.credentials.BackendCredentials;
import io.postern.backend.BackendConnector;
import io.postern.backend.BackendSession;
import io.postern.backend.BackendTarget;
import io.postern.config.LimitsConfig;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.relay.ResponseBoundaries;
import io.postern.sasl.SaslMechanism;
import io.postern.session.ClientDecoder;
import io.postern.session.ClientSession;
import io.postern.session.Goodbye;
import io.postern.session.LoginOutcome;
import io.postern.session.MailProtocol;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * IMAP before login (RFC 9051 not-authenticated state), as {@link ClientSession} needs it: the
 * commands Postern answers itself, its reply texts with their RFC 5530 codes, and the backend
 * login. One per connection: it remembers the client's ID, to forward it.
 */
public final class ImapProtocol implements MailProtocol<ImapRequest> {

  private List<byte[]> clientId;

  @Override
  public ClientDecoder<ImapRequest> decoder(LimitsConfig limits) {
    return new ImapDecoder(limits.maxLine(), limits.maxLiteral());
  }

  /** A logged-in IMAP session ends between two responses, never inside a literal. */
  @Override
  public ResponseBoundaries responseBoundaries() {
    return new ImapResponseBoundaries();
  }

  @Override
  public String startTlsCommand() {
    return "STARTTLS";
  }

  @Override
  public String greeting(ClientSession<ImapRequest> session) {
    return "* OK [CAPABILITY " + capabilities(session) + "] Postern ready.\r\n";
  }

  /**
   * RFC 9051 §7.2.2 and §11.7: before TLS only what cannot leak a password is offered. Then
   * the backend extensions every live server offers that mean something before login.
   */
  static String capabilities(ClientSession<ImapRequest> session) {
    StringBuilder caps = new StringBuilder("IMAP4rev1 SASL-IR ID LITERAL+");
    if (session.startTlsOffered()) {
      caps.append(" STARTTLS");
    }
    if (session.passwordsOffered()) {
      SaslMechanism.NAMES.forEach(name -> caps.append(" AUTH=").append(name));
    } else {
      caps.append(" LOGINDISABLED");
    }
    if (session.tokensOffered()) {
      SaslMechanism.TOKEN_NAMES.forEach(name -> caps.append(" AUTH=").append(name));
    }
    if (session.externalOffered()) {
      caps.append(" AUTH=EXTERNAL");
    }
    session.backendCapabilities(Set.of(), ImapProtocol::passable).forEach(capability ->
        caps.append(' ').append(capability.equals("IMAP4REV2") ? "IMAP4rev2" : capability));
    return caps.toString();
  }

  /**
   * What a backend's capability means before login, where Postern answers. Passed when every
   * server offers it:
   * <ul>
   *   <li>{@code IMAP4rev2}: its not-authenticated state is what Postern speaks (SASL-IR,
   *       LITERAL-, which LITERAL+ covers, UTF-8 in quoted strings, which Postern's parser
   *       takes), and a client picks its dialect from it.
   *   <li>{@code UTF8=ACCEPT}: RFC 6855 §5 lets its clients send UTF-8 user names and
   *       passwords in LOGIN; Postern takes them and passes them on as literals.
   * </ul>
   * Not passed: Postern's own (STARTTLS, LOGINDISABLED, AUTH=, SASL-IR, ID, LITERAL+; LITERAL-
   * is covered by LITERAL+), and what only the logged-in state uses (ENABLE, IDLE,
   * UTF8=ONLY...): the reply to LOGIN carries the backend's own list (RFC 9051 §6.2.3), which
   * is what clients go by after it.
   */
  static boolean passable(String capability) {
    return capability.equals("IMAP4REV2") || capability.equals("UTF8=ACCEPT");
  }

  @Override
  public void command(ImapRequest request, ClientSession<ImapRequest> session) {
    String tag = request.tag();
    if (request instanceof ImapRequest.Capability) {
      session.write("* CAPABILITY " + capabilities(session) + "\r\n"
          + ok(tag, "Capability completed."));
    } else if (request instanceof ImapRequest.Noop) {
      session.write(ok(tag, "NOOP completed."));
    } else if (request instanceof ImapRequest.Logout) {
      session.end("* BYE Logging out.\r\n" + ok(tag, "Logout completed."), "logout");
    } else if (request instanceof ImapRequest.StartTls) {
      session.startTls(tag);
    } else if (request instanceof ImapRequest.Id id) {
      clientId = id.fields();
      session.write("* ID (\"name\" \"Postern\")\r\n" + ok(tag, "ID completed."));
    } else if (request instanceof ImapRequest.Login login) {
      session.login(tag, "LOGIN", new Credentials(
          new String(login.user(), StandardCharsets.UTF_8), login.password()));
    } else if (request instanceof ImapRequest.Authenticate a) {
      session.authenticate(tag, a.mechanism(), a.initialResponse());
    } else if (request instanceof ImapRequest.Invalid invalid) {
      session.bad(tag, invalid.message());
    } else {
      session.bad(tag, "Unknown command or not allowed before login.");
    }
  }

  @Override
  public Future<BackendSession> backendLogin(BackendConnector backends, BackendTarget target,
      String tag, BackendCredentials credentials) {
    return ImapBackendLogin.login(backends, target, tag, credentials, clientId);
  }

  @Override
  public String ok(String tag, String text) {
    return tagged(tag, "OK", text);
  }

  @Override
  public String no(String tag, String text) {
    return tagged(tag, "NO", text);
  }

  @Override
  public String bad(String tag, String text) {
    return tagged(tag, "BAD", text);
  }

  /** A tagged status response; untagged ({@code *}) when the command had no usable tag. */
  private static String tagged(String tag, String status, String text) {
    return (tag == null ? "*" : tag) + " " + status + " " + text + "\r\n";
  }

  @Override
  public String loginFailed(String tag, LoginOutcome.Failed failed) {
    String code = switch (failed.failure()) {
      case BAD_CREDENTIALS -> "AUTHENTICATIONFAILED";
      case DISABLED -> "CONTACTADMIN";
      case CLEARTEXT_REFUSED -> "PRIVACYREQUIRED";
      // RFC 5530: what can never succeed here, whatever the password.
      case PASSWORDS_REFUSED -> "CANNOT";
      case UNAVAILABLE, THROTTLED -> "UNAVAILABLE";
      case IN_USE -> "INUSE";
    };
    return no(tag, "[" + code + "] " + failed.text());
  }

  /** An untagged BYE, after the reply to the command that led to it. */
  @Override
  public String goodbye(Goodbye why, String reply) {
    String code = switch (why) {
      case LINE_TOO_LONG, LITERAL_TOO_BIG -> "[TOOBIG] ";
      case SHUTDOWN, ENDED, TOO_MANY_CONNECTIONS, TOO_MANY_FROM_ADDRESS, CONNECTING_TOO_FAST,
          TOO_MANY_HANDSHAKES -> "[UNAVAILABLE] ";
      case INTERNAL_ERROR -> "[SERVERBUG] ";
      case TOO_MANY_ATTEMPTS, TOO_MANY_ERRORS, PREAUTH_TIMEOUT -> "";
      case CERTIFICATE_REQUIRED, CERTIFICATE_INVALID -> "";
    };
    return (reply == null ? "" : reply) + "* BYE " + code + why.text() + "\r\n";
  }
}
