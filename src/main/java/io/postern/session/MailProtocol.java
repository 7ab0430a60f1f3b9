package io.postern.session;

import io.postern.credentials.BackendCredentials;
import io.postern.backend.BackendConnector;
import io.postern.backend.BackendSession;
import io.postern.backend.BackendTarget;
import io.postern.config.LimitsConfig;
import io.postern.credentials.Secret;
import io.postern.relay.ResponseBoundaries;
import io.vertx.core.Future;

/**
 * What a mail protocol supplies to {@link ClientSession}, which runs the lifecycle the same for
 * all of them: the shape of nginx's {@code ngx_mail_protocol_t} and Dovecot's
 * {@code client_vfuncs}. An instance holds what the protocol remembers before login (IMAP's ID,
 * POP3's USER); the session takes a new one after STARTTLS, so that nothing said before it
 * survives (RFC 9051 §6.2.1, RFC 2595 §4). {@code R} is the protocol's parsed command.
 *
 * <p>Replies are whole lines with their CRLF. {@code tag} is the IMAP command's tag (null for an
 * untagged reply) and always null in POP3.
 */
public interface MailProtocol<R> {

  /** Frames this connection's commands within the configured limits. */
  ClientDecoder<R> decoder(LimitsConfig limits);

  /** What the client sees first. */
  String greeting(ClientSession<R> session);

  /** Carries out one command before login, through the session's operations. */
  void command(R request, ClientSession<R> session);

  /** The command that starts TLS, as replies name it: {@code STARTTLS} or {@code STLS}. */
  String startTlsCommand();

  /** Logs in at the backend on the user's behalf; the reply it carries answers {@code tag}. */
  Future<BackendSession> backendLogin(BackendConnector backends, BackendTarget target, String tag,
      BackendCredentials credentials);

  /** A success: IMAP {@code tag OK text}, POP3 {@code +OK text}. */
  String ok(String tag, String text);

  /** A refusal that is not the client's error: IMAP {@code tag NO text}, POP3 {@code -ERR}. */
  String no(String tag, String text);

  /** A command that is invalid here: IMAP {@code tag BAD text}, POP3 {@code -ERR text}. */
  String bad(String tag, String text);

  /** A failed login, with the protocol's response code for its failure class. */
  String loginFailed(String tag, LoginOutcome.Failed failed);

  /**
   * The last words before Postern closes the connection. {@code reply} answers the command that
   * led here (or is null): a protocol with an untagged goodbye sends it first, one without lets
   * the goodbye take its place.
   */
  String goodbye(Goodbye why, String reply);

  /**
   * Follows the backend's responses after login, so that a session ended from outside (drain,
   * kick) ends between two of them with the {@link #goodbye}; null (the default) when the
   * protocol has no such point the client would understand, and the session is closed instead.
   */
  default ResponseBoundaries responseBoundaries() {
    return null;
  }
}
