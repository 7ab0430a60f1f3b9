package io.postern.imap;

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
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One IMAP client before login (RFC 9051 not-authenticated state), then its relay. All state is
 * confined to the connection's event loop.
 */
public final class ImapSession {

  /** Where the session is; each input is handled by one switch over it. */
  enum State {
    /** Reading commands. */
    COMMAND,
    /** AUTHENTICATE sent a challenge and waits for the client's response line. */
    AUTHENTICATE,
    /** STARTTLS accepted; every byte until the handshake completes is dropped. */
    STARTTLS,
    /** The auth source and the backend are being asked; input waits (socket paused). */
    LOGIN,
    /** Logged in: the relay owns both sockets. */
    RELAY,
    /** Closing or closed. */
    CLOSED
  }

  private final ClientConnection conn;
  private final LimitsConfig limits;
  private final ImapDecoder decoder;
  private State state = State.COMMAND;
  private int attempts;
  private String saslTag;
  private String saslMechanism;
  private SaslMechanism sasl;
  private List<byte[]> clientId;

  public ImapSession(ClientConnection conn) {
    this.conn = conn;
    this.limits = conn.context().config().limits();
    this.decoder = new ImapDecoder(limits.maxLine(), limits.maxLiteral());
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
    conn.write(ImapReplies.greeting(conn));
  }

  private void received(Buffer data) {
    switch (state) {
      case COMMAND, AUTHENTICATE, LOGIN -> {
        if (SocketEnds.isInputEnd(data)) {
          conn.inputEnded();
        } else if (!decoder.feed(data.getBytes())) {
          end(ImapReplies.BYE_LINE_TOO_LONG, "too_big");
          return;
        }
        process();
      }
      // STARTTLS: plaintext that raced the upgrade must never be acted on (CVE-2011-0411).
      case STARTTLS, RELAY, CLOSED -> { }
    }
  }

  private void process() {
    while (state == State.COMMAND || state == State.AUTHENTICATE) {
      ImapInput input = state == State.AUTHENTICATE ? decoder.nextLine() : decoder.next();
      if (input == null) {
        break;
      }
      handle(input);
    }
    if (conn.hasInputEnded() && (state == State.COMMAND || state == State.AUTHENTICATE)) {
      // Nothing more will come: every complete command has its reply; say nothing more.
      end(null, "closed");
    }
    flowControl();
  }

  private void handle(ImapInput input) {
    if (input instanceof ImapInput.Frame f) {
      command(ImapRequests.parse(f.frame()));
    } else if (input instanceof ImapInput.Line l) {
      saslResponse(l.bytes());
    } else if (input instanceof ImapInput.LiteralWanted) {
      conn.write(ImapReplies.CONTINUE_LITERAL);
    } else if (input instanceof ImapInput.TooBig t) {
      end(t.what().equals("literal") ? ImapReplies.BYE_LITERAL_TOO_BIG
          : ImapReplies.BYE_LINE_TOO_LONG, "too_big");
    }
  }

  private void command(ImapRequest request) {
    String tag = request.tag();
    if (request instanceof ImapRequest.Capability) {
      conn.write("* CAPABILITY " + ImapReplies.capabilities(conn) + "\r\n"
          + tag + " OK Capability completed.\r\n");
    } else if (request instanceof ImapRequest.Noop) {
      conn.write(tag + " OK NOOP completed.\r\n");
    } else if (request instanceof ImapRequest.Logout) {
      conn.write("* BYE Logging out.\r\n");
      end(tag + " OK Logout completed.\r\n", "logout");
    } else if (request instanceof ImapRequest.StartTls) {
      startTls(tag);
    } else if (request instanceof ImapRequest.Id id) {
      clientId = id.fields();
      conn.write("* ID (\"name\" \"Postern\")\r\n" + tag + " OK ID completed.\r\n");
    } else if (request instanceof ImapRequest.Login login) {
      if (conn.cleartextRefused()) {
        refuseCleartext(tag, "LOGIN");
      } else {
        login(tag, "LOGIN", new Credentials(
            new String(login.user(), StandardCharsets.UTF_8), login.password()));
      }
    } else if (request instanceof ImapRequest.Authenticate a) {
      authenticate(a);
    } else if (request instanceof ImapRequest.Invalid i) {
      bad(tag, i.message());
    } else {
      bad(tag, "Unknown command or not allowed before login.");
    }
  }

  private void startTls(String tag) {
    if (conn.context().listener().tls() != TlsMode.STARTTLS || conn.secured()) {
      bad(tag, conn.secured() ? "TLS is already active." : "STARTTLS is not available here.");
      return;
    }
    // RFC 9051 §6.2.1 option 2: whatever was pipelined after STARTTLS is thrown away, and so is
    // anything said before it that would otherwise be remembered (the client's ID).
    decoder.discard();
    clientId = null;
    state = State.STARTTLS;
    // Bytes held back while a login was under way are delivered now, and dropped in this state.
    conn.socket().resume();
    conn.upgrade(tag + " OK Begin TLS negotiation now.\r\n").onComplete(ar -> guarded(() -> {
      if (ar.failed() || state != State.STARTTLS) {
        end(null, "tls_failed");
        return;
      }
      decoder.discard();
      state = State.COMMAND;
      process();
    }));
  }

  private void authenticate(ImapRequest.Authenticate request) {
    SaslMechanism mechanism = SaslMechanism.named(request.mechanism());
    if (mechanism == null) {
      conn.write(request.tag() + " NO Unsupported authentication mechanism.\r\n");
      return;
    }
    if (conn.cleartextRefused()) {
      refuseCleartext(request.tag(), request.mechanism());
      return;
    }
    saslTag = request.tag();
    saslMechanism = request.mechanism();
    sasl = mechanism;
    saslStep(mechanism.start(request.initialResponse()));
  }

  private void saslResponse(byte[] line) {
    if (line.length == 1 && line[0] == '*') {
      state = State.COMMAND;
      sasl = null;
      conn.write(saslTag + " BAD Authentication cancelled.\r\n");
      return;
    }
    saslStep(sasl.next(line));
  }

  private void saslStep(SaslStep step) {
    if (step instanceof SaslStep.Challenge c) {
      state = State.AUTHENTICATE;
      conn.write("+ " + c.base64() + "\r\n");
      return;
    }
    sasl = null;
    state = State.COMMAND;
    if (step instanceof SaslStep.Done d) {
      login(saslTag, saslMechanism, d.credentials());
    } else {
      bad(saslTag, ((SaslStep.Malformed) step).message());
    }
  }

  private void refuseCleartext(String tag, String mechanism) {
    LoginFlow.cleartextRefused(conn, Protocol.IMAP, mechanism);
    // The password may already be on the wire; it is never passed on (STL-05).
    conn.write(tag + " " + ImapReplies.PRIVACY_REQUIRED + "\r\n");
    failedLogin();
  }

  private void login(String tag, String mechanism, Credentials credentials) {
    state = State.LOGIN;
    attempts++;
    flowControl();
    LoginFlow.run(conn, Protocol.IMAP, mechanism, credentials, attempts,
            (target, user, password) -> ImapBackendLogin.login(conn.context().backends(), target,
                tag, user, password, clientId))
        .onComplete(ar -> guarded(() -> loginDone(tag, ar.succeeded() ? ar.result()
            : new LoginOutcome.Failed(LoginOutcome.Failure.UNAVAILABLE, null))));
  }

  private void loginDone(String tag, LoginOutcome outcome) {
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
    state = State.COMMAND;
    switch (failed.failure()) {
      case BAD_CREDENTIALS -> conn.write(tag + " " + ImapReplies.AUTH_FAILED + "\r\n");
      case DISABLED -> conn.write(tag + " NO [CONTACTADMIN] "
          + failed.userText() + "\r\n");
      case UNAVAILABLE -> conn.write(tag + " " + ImapReplies.UNAVAILABLE + "\r\n");
      case IN_USE -> conn.write(tag + " " + ImapReplies.IN_USE + "\r\n");
    }
    if (failed.failure() == LoginOutcome.Failure.BAD_CREDENTIALS
        || failed.failure() == LoginOutcome.Failure.DISABLED) {
      failedLogin();
    }
    process();
  }

  private void failedLogin() {
    if (conn.failedLogin()) {
      end(ImapReplies.BYE_TOO_MANY_ATTEMPTS, "too_many_attempts");
    }
  }

  private void bad(String tag, String message) {
    conn.write((tag == null ? "*" : tag) + " BAD " + message + "\r\n");
    if (conn.badCommand()) {
      end(ImapReplies.BYE_TOO_MANY_ERRORS, "too_many_errors");
    }
  }

  /** Reads only while commands are wanted and the client takes its replies. */
  private void flowControl() {
    switch (state) {
      case COMMAND, AUTHENTICATE -> conn.readCommands(() -> guarded(this::flowControl));
      case LOGIN -> conn.socket().pause();
      case STARTTLS, RELAY, CLOSED -> { }
    }
  }

  private void guarded(Runnable action) {
    conn.guarded(action, () -> end(ImapReplies.BYE_INTERNAL, "internal_error"));
  }

  private void deadlinePassed() {
    // Not a byte may go out in plaintext while the TLS upgrade is in flight (STL-09).
    end(state == State.STARTTLS ? null : ImapReplies.BYE_TIMEOUT, "preauth_timeout");
  }

  private void shuttingDown() {
    if (state != State.RELAY && state != State.CLOSED) {
      end(state == State.STARTTLS ? null : ImapReplies.BYE_SHUTDOWN, "shutdown");
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
