package io.postern.pop3;

import io.postern.auth.Credentials;
import io.postern.config.LimitsConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.relay.SocketEnds;
import io.postern.sasl.SaslMechanism;
import io.postern.sasl.SaslStep;
import io.postern.session.ClientConnection;
import io.postern.session.LoginFlow;
import io.postern.session.LoginOutcome;
import io.vertx.core.buffer.Buffer;

/** One POP3 client in the AUTHORIZATION state (RFC 1939), then its relay. */
public final class Pop3Session {

  /** Where the session is; each input is handled by one switch over it. */
  enum State {
    /** Reading commands. */
    AUTHORIZATION,
    /** AUTH sent a challenge and waits for the client's response line. */
    SASL,
    /** STLS accepted; every byte until the handshake completes is dropped. */
    STLS,
    /** The auth source and the backend are being asked; input waits (socket paused). */
    LOGIN,
    /** Logged in: the relay owns both sockets. */
    RELAY,
    /** Closing or closed. */
    CLOSED
  }

  private final ClientConnection conn;
  private final LimitsConfig limits;
  private final Pop3Decoder decoder;
  private State state = State.AUTHORIZATION;
  private int attempts;
  private String user;
  private String saslMechanism;
  private SaslMechanism sasl;

  public Pop3Session(ClientConnection conn) {
    this.conn = conn;
    this.limits = conn.context().config().limits();
    this.decoder = new Pop3Decoder(limits.maxLine());
  }

  public void start() {
    conn.socket().handler(data -> guarded(() -> received(data)));
    conn.socket().exceptionHandler(e -> end(null, "network_error"));
    conn.whenClosed(this::closed);
    conn.socket().shutdownHandler(v -> shuttingDown());
    conn.startDeadline(limits.preauthTimeout(), this::deadlinePassed);
    if (conn.context().shutdown().stopping()) {
      // Accepted while Postern stops: the goodbye instead of a greeting.
      shuttingDown();
      return;
    }
    conn.write(Pop3Replies.GREETING);
  }

  private void received(Buffer data) {
    switch (state) {
      case AUTHORIZATION, SASL, LOGIN -> {
        if (SocketEnds.isInputEnd(data)) {
          conn.inputEnded();
        } else if (!decoder.feed(data.getBytes())) {
          end(Pop3Replies.LINE_TOO_LONG, "too_big");
          return;
        }
        process();
      }
      // STLS: plaintext that raced the upgrade must never be acted on (CVE-2021-38084).
      case STLS, RELAY, CLOSED -> { }
    }
  }

  private void process() {
    while (state == State.AUTHORIZATION || state == State.SASL) {
      byte[] line = decoder.next();
      if (line == null) {
        break;
      }
      if (line == Pop3Decoder.TOO_LONG) {
        end(Pop3Replies.LINE_TOO_LONG, "too_big");
        return;
      }
      if (state == State.SASL) {
        saslResponse(line);
      } else {
        command(Pop3Request.parse(line));
      }
    }
    if (conn.hasInputEnded() && (state == State.AUTHORIZATION || state == State.SASL)) {
      // Nothing more will come: every complete command has its reply; say nothing more.
      end(null, "closed");
    }
    flowControl();
  }

  private void command(Pop3Request request) {
    if (request instanceof Pop3Request.Capa) {
      conn.write(Pop3Replies.capa(conn));
    } else if (request instanceof Pop3Request.Stls) {
      startTls();
    } else if (request instanceof Pop3Request.Quit) {
      end("+OK Logging out.\r\n", "quit");
    } else if (request instanceof Pop3Request.User u) {
      if (conn.cleartextRefused()) {
        conn.write(Pop3Replies.CLEARTEXT_REFUSED);
      } else {
        user = u.name();
        conn.write("+OK\r\n");
      }
    } else if (request instanceof Pop3Request.Pass p) {
      if (conn.cleartextRefused()) {
        refuseCleartext("USER");
      } else if (user == null) {
        bad("-ERR No USER given.\r\n");
      } else {
        String name = user;
        user = null;
        login("USER", new Credentials(name, p.password()));
      }
    } else if (request instanceof Pop3Request.Auth a) {
      auth(a);
    } else {
      bad("-ERR " + ((Pop3Request.Invalid) request).message() + "\r\n");
    }
  }

  private void startTls() {
    if (conn.context().listener().tls() != TlsMode.STARTTLS || conn.secured()) {
      bad(conn.secured() ? "-ERR TLS is already active.\r\n"
          : "-ERR STLS is not available here.\r\n");
      return;
    }
    // Whatever was pipelined after STLS is thrown away (RFC 2595 §4; CVE-2021-38084).
    decoder.discard();
    user = null;
    state = State.STLS;
    // Bytes held back while a login was under way are delivered now, and dropped in this state.
    conn.socket().resume();
    conn.upgrade("+OK Begin TLS negotiation now.\r\n").onComplete(ar -> guarded(() -> {
      if (ar.failed() || state != State.STLS) {
        end(null, "tls_failed");
        return;
      }
      decoder.discard();
      state = State.AUTHORIZATION;
      process();
    }));
  }

  private void auth(Pop3Request.Auth request) {
    if (conn.cleartextRefused()) {
      if (request.mechanism() == null) {
        // Only asks which mechanisms exist: no password was offered, so no attempt is spent.
        conn.write(Pop3Replies.CLEARTEXT_REFUSED);
      } else {
        refuseCleartext(request.mechanism());
      }
      return;
    }
    if (request.mechanism() == null) {
      conn.write("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
      return;
    }
    SaslMechanism mechanism = SaslMechanism.named(request.mechanism());
    if (mechanism == null) {
      bad("-ERR Unsupported authentication mechanism.\r\n");
      return;
    }
    saslMechanism = request.mechanism();
    sasl = mechanism;
    saslStep(mechanism.start(request.initialResponse()));
  }

  private void saslResponse(byte[] line) {
    if (line.length == 1 && line[0] == '*') {
      sasl = null;
      state = State.AUTHORIZATION;
      conn.write("-ERR Authentication cancelled.\r\n");
      return;
    }
    saslStep(sasl.next(line));
  }

  private void saslStep(SaslStep step) {
    if (step instanceof SaslStep.Challenge c) {
      state = State.SASL;
      conn.write("+ " + c.base64() + "\r\n");
      return;
    }
    sasl = null;
    state = State.AUTHORIZATION;
    if (step instanceof SaslStep.Done d) {
      login(saslMechanism, d.credentials());
    } else {
      bad("-ERR " + ((SaslStep.Malformed) step).message() + "\r\n");
    }
  }

  private void refuseCleartext(String mechanism) {
    LoginFlow.cleartextRefused(conn, Protocol.POP3, mechanism);
    failure(Pop3Replies.CLEARTEXT_REFUSED);
  }

  private void login(String mechanism, Credentials credentials) {
    state = State.LOGIN;
    attempts++;
    flowControl();
    LoginFlow.run(conn, Protocol.POP3, mechanism, credentials, attempts,
            (target, backendUser, password) -> Pop3BackendLogin.login(conn.context().backends(),
                target, backendUser, password))
        .onComplete(ar -> guarded(() -> loginDone(ar.succeeded() ? ar.result()
            : new LoginOutcome.Failed(LoginOutcome.Failure.UNAVAILABLE, null))));
  }

  private void loginDone(LoginOutcome outcome) {
    if (state != State.LOGIN) {
      if (outcome instanceof LoginOutcome.LoggedIn in) {
        SocketEnds.close(in.backend().socket());
      }
      return;
    }
    if (outcome instanceof LoginOutcome.LoggedIn in) {
      state = State.RELAY;
      conn.relay(in.backend(), Buffer.buffer(decoder.drain()));
      return;
    }
    LoginOutcome.Failed failed = (LoginOutcome.Failed) outcome;
    state = State.AUTHORIZATION;
    switch (failed.failure()) {
      case BAD_CREDENTIALS -> failure(Pop3Replies.AUTH_FAILED);
      case DISABLED -> failure("-ERR [SYS/PERM] " + failed.userText()
          + "\r\n");
      case UNAVAILABLE -> conn.write(Pop3Replies.UNAVAILABLE);
      case IN_USE -> conn.write(Pop3Replies.IN_USE);
    }
    process();
  }

  /**
   * Answers a failed login; the one that reaches {@code max-attempts} is answered
   * {@code -ERR [SYS/TEMP]} instead and the connection closed (DESIGN.md §5).
   */
  private void failure(String reply) {
    if (conn.failedLogin()) {
      end(Pop3Replies.TOO_MANY_ATTEMPTS, "too_many_attempts");
    } else {
      conn.write(reply);
    }
  }

  private void bad(String reply) {
    if (conn.badCommand()) {
      end(Pop3Replies.TOO_MANY_ERRORS, "too_many_errors");
    } else {
      conn.write(reply);
    }
  }

  /** Reads only while commands are wanted and the client takes its replies. */
  private void flowControl() {
    switch (state) {
      case AUTHORIZATION, SASL -> conn.readCommands(() -> guarded(this::flowControl));
      case LOGIN -> conn.socket().pause();
      case STLS, RELAY, CLOSED -> { }
    }
  }

  private void guarded(Runnable action) {
    conn.guarded(action, () -> end(Pop3Replies.INTERNAL, "internal_error"));
  }

  private void deadlinePassed() {
    // Not a byte may go out in plaintext while the TLS upgrade is in flight.
    end(state == State.STLS ? null : Pop3Replies.TIMEOUT, "preauth_timeout");
  }

  private void shuttingDown() {
    if (state != State.RELAY && state != State.CLOSED) {
      end(state == State.STLS ? null : Pop3Replies.SHUTDOWN, "shutdown");
    }
  }

  private void end(String lastLine, String result) {
    if (state == State.CLOSED || state == State.RELAY) {
      return;
    }
    state = State.CLOSED;
    conn.end(lastLine, result);
  }

  private void closed() {
    if (state != State.RELAY) {
      state = State.CLOSED;
      conn.logEnd();
    }
  }
}
