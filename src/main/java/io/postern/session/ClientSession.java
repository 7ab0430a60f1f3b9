package io.postern.session;

import io.postern.auth.ClientCertificate;
import io.postern.config.AuthConfig;
import io.postern.config.ClientCertificateConfig;
import io.postern.config.LimitsConfig;
import io.postern.config.OAuth2Config;
import io.postern.config.TlsMode;
import io.postern.credentials.Credentials;
import io.postern.metrics.ProtocolMeters.LoginResult;
import io.postern.net.Addresses;
import io.postern.net.SocketEnds;
import io.postern.relay.Relay;
import io.postern.sasl.SaslExternal;
import io.postern.sasl.SaslMechanism;
import io.postern.sasl.SaslStep;
import io.postern.sasl.TokenDiscovery;
import io.postern.tls.ClientCa;
import io.postern.session.LoginOutcome.Failed;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client from accept to end, the same lifecycle for every protocol: greeting, the command
 * loop, STARTTLS with the injection rule, SASL exchanges, login attempts, the pre-auth deadline,
 * goodbyes, the hand-over to the relay and the end. What differs comes from the connection's
 * {@link MailProtocol}, whose command handling calls the public operations below. All state is
 * confined to the connection's event loop; every input is handled by one switch over the state.
 */
public final class ClientSession<R> {

  private static final Logger LOG = LoggerFactory.getLogger(ClientSession.class);

  /** Where the session is. */
  enum State {
    /** Reading commands. */
    COMMANDS,
    /** A SASL exchange sent a challenge and waits for the client's response line. */
    SASL,
    /** STARTTLS accepted; every byte until the handshake completes is dropped. */
    STARTTLS,
    /** The auth source and the backend are being asked; input waits (socket paused). */
    LOGIN,
    /** Logged in: the relay owns both sockets. */
    RELAY,
    /** Closing or closed. */
    CLOSED
  }

  private final ListenerContext context;
  private final LimitsConfig limits;
  private final Supplier<MailProtocol<R>> protocols;
  private MailProtocol<R> protocol;
  private ClientDecoder<R> decoder;
  private final SessionRecord record;
  private final ClientSocket socket;
  private State state = State.COMMANDS;
  private SaslExchange sasl;
  /**
   * A token mechanism's refusal challenge was sent for this failed login: the client's answer
   * to it is awaited (state SASL), then this failure is the reply. Else null.
   */
  private Failed refusedAfterChallenge;
  private String refusedTag;
  /** The login under way (state LOGIN), else null. */
  private LoginAttempt login;
  /** The relay (state RELAY), else null. */
  private Relay relay;
  private String endResult = "closed";
  private long deadline = -1;
  private int attempts;
  private int failedLogins;
  private int badCommands;

  private ClientSession(ListenerContext context, Supplier<MailProtocol<R>> protocols,
      SessionRecord record, ClientSocket socket) {
    this.context = context;
    this.limits = context.config().limits();
    this.protocols = protocols;
    this.protocol = protocols.get();
    this.decoder = protocol.decoder(limits);
    this.record = record;
    this.socket = socket;
  }

  /**
   * Starts the session of an admitted connection from {@code client} (the address a trusted
   * PROXY header named, if any), speaking the protocol {@code protocols} makes a fresh instance
   * of. {@code release} gives the connection's slot back when the session ends.
   */
  public static <R> void start(ListenerContext context, NetSocket netSocket, InetAddress client,
      Supplier<MailProtocol<R>> protocols, Runnable release) {
    // With a trusted PROXY header, Vert.x reports the header's destination as the local end.
    io.vertx.core.net.SocketAddress local = netSocket.localAddress();
    SessionRecord record = new SessionRecord(context.listener(), client,
        netSocket.remoteAddress().port(),
        local == null ? null : Addresses.literal(local.hostAddress()),
        local == null ? 0 : local.port(), release);
    ClientSocket socket;
    try {
      socket = new ClientSocket(netSocket, context.config().limits().handshakeTimeout(),
          context.listenerMeters());
    } catch (RuntimeException e) {
      LOG.error("session={} cannot be served", record.id(), e);
      SocketEnds.abort(netSocket);
      record.end("internal_error");
      return;
    }
    ClientSession<R> session = new ClientSession<>(context, protocols, record, socket);
    // Listed until its log line is written, whatever ends it.
    context.sessions().add(record.id(), context.vertx().getOrCreateContext(), session.live());
    record.listed(() -> context.sessions().remove(record.id()));
    session.begin();
  }

  private void begin() {
    record.tls(socket.sslSession());
    socket.handlers(data -> guarded(() -> received(data)), () -> guarded(this::inputEnded),
        () -> end(null, "network_error"), this::closed, this::shuttingDown);
    deadline = context.vertx().setTimer(limits.preauthTimeout().toMillis(), id -> {
      deadline = -1;
      // Not a byte may go out in plaintext while the TLS upgrade is in flight (STL-09).
      end(Goodbye.PREAUTH_TIMEOUT);
    });
    if (!certificateChecked()) {
      return;
    }
    if (context.shutdown().stopping()) {
      // Accepted while Postern stops: the goodbye instead of a greeting.
      shuttingDown();
      return;
    }
    socket.write(protocol.greeting(this));
  }

  // ---- What protocols ask of the session while they handle a command.

  /** Sends protocol text; never while STARTTLS is under way or once closing began. */
  public void write(String text) {
    socket.write(text);
  }

  /** True when no password may be accepted on this connection in its present state. */
  public boolean cleartextRefused() {
    return !socket.secured()
        && context.config().auth().cleartext() == AuthConfig.Cleartext.TLS_ONLY;
  }

  /**
   * True when passwords are offered (IMAP LOGIN and AUTH=PLAIN, POP3 USER): cleartext is not
   * refused here, and the auth source checks passwords (the oauth2 source checks tokens only).
   */
  public boolean passwordsOffered() {
    return !cleartextRefused() && context.authenticator().checksPasswords();
  }

  /**
   * Answers a password login where the source takes tokens only: a failed login of
   * {@code mechanism} in the meters, but not an attempt, as nothing was checked, and the password
   * goes nowhere. {@code tag} is null for POP3.
   */
  public void refusePasswords(String tag, String mechanism) {
    context.meters().protocol(context.listener().protocol()).login(mechanism, LoginResult.FAILURE);
    loginFailed(tag, Failed.of(LoginOutcome.Failure.PASSWORDS_REFUSED));
  }

  /**
   * True when the bearer-token mechanisms (XOAUTH2, OAUTHBEARER) are announced: after TLS, and
   * only where the auth source verifies tokens.
   */
  public boolean tokensOffered() {
    return socket.secured() && context.authenticator().verifiesTokens();
  }

  /** True while STARTTLS (STLS) may still be used here. */
  public boolean startTlsOffered() {
    return context.listener().tls() == TlsMode.STARTTLS && !socket.secured();
  }

  /**
   * The backend extensions to announce before login, upper case: the listener's configured
   * {@code capabilities}, else the {@code passable} ones every live server offers as the health
   * checks saw them, else (nothing known yet) {@code assumed}. See {@link BackendOffer}.
   */
  public List<String> backendCapabilities(Set<String> assumed, Predicate<String> passable) {
    return BackendOffer.announced(context, assumed, passable);
  }

  /** Answers an invalid command; {@code limits.max-bad-commands} of them end the session. */
  public void bad(String tag, String text) {
    String reply = protocol.bad(tag, text);
    if (++badCommands >= limits.maxBadCommands()) {
      end(protocol.goodbye(Goodbye.TOO_MANY_ERRORS, reply), Goodbye.TOO_MANY_ERRORS.result());
    } else {
      write(reply);
    }
  }

  /** Ends the session at the client's request (LOGOUT, QUIT) with {@code lastLines}. */
  public void end(String lastLines, String result) {
    if (state == State.CLOSED || state == State.RELAY) {
      return;
    }
    state = State.CLOSED;
    endResult = result;
    cancelDeadline();
    if (lastLines != null) {
      socket.write(lastLines);
    }
    socket.close();
  }

  /** STARTTLS: the upgrade, after which everything said before it is forgotten. */
  public void startTls(String tag) {
    if (!startTlsOffered()) {
      bad(tag, socket.secured() ? "TLS is already active."
          : protocol.startTlsCommand() + " is not available here.");
      return;
    }
    if (!context.handshakes().tryTake(record.clientAddress())) {
      // Cheap for the client, a millisecond of CPU here: the address has had its share.
      context.listenerMeters().handshakeRefused();
      end(Goodbye.TOO_MANY_HANDSHAKES);
      return;
    }
    // RFC 9051 §6.2.1 option 2, RFC 2595 §4: whatever was pipelined after the command is thrown
    // away (CVE-2011-0411, CVE-2021-38084).
    decoder.discard();
    state = State.STARTTLS;
    // Bytes held back while a login was under way are delivered now, and dropped in this state.
    socket.resume();
    socket.upgrade(context.tls().options(context.listener()),
            protocol.ok(tag, "Begin TLS negotiation now."))
        .onComplete(ar -> guarded(() -> {
          if (ar.failed() || state != State.STARTTLS) {
            end(null, "tls_failed");
            return;
          }
          record.tls(socket.sslSession());
          // A new protocol and decoder: nothing said or sent before TLS is remembered.
          protocol = protocols.get();
          decoder = protocol.decoder(limits);
          state = State.COMMANDS;
          if (!certificateChecked()) {
            return;
          }
          process();
        }));
  }

  /**
   * Reads the client certificate of the TLS session, on a listener that asks for one; false
   * when the session ends: the listener requires a certificate and the session has none, or the
   * client sent one that its CAs do not verify now. The engine refuses most such handshakes;
   * what gets this far is a certificate revoked by {@code client-crl} (which only this check
   * reads) and a session resumed from a ticket of another listener (nginx's CVE-2025-23419).
   */
  private boolean certificateChecked() {
    ClientCa ca = context.tls() == null ? null : context.tls().clientCa(context.listener());
    if (ca == null || !socket.secured()) {
      return true;
    }
    ClientCertificate certificate = ClientCertificates.read(socket.sslSession(), ca);
    record.clientCertificate(certificate);
    ClientCertificateConfig.Mode mode = context.listener().clientCertificates().mode();
    boolean sent = certificate != ClientCertificate.NONE;
    if (!certificate.verified() && (sent || mode == ClientCertificateConfig.Mode.REQUIRED)) {
      LOG.info("session={} client={} refused: no client certificate verified by {} ({})",
          record.id(), record.clientIp(), ca, certificate.verify());
      end(sent ? Goodbye.CERTIFICATE_INVALID : Goodbye.CERTIFICATE_REQUIRED);
      return false;
    }
    return true;
  }

  /** Starts a SASL exchange (IMAP AUTHENTICATE, POP3 AUTH); {@code initialResponse} may be null. */
  public void authenticate(String tag, String mechanismName, byte[] initialResponse) {
    SaslMechanism mechanism = SaslMechanism.named(mechanismName, tokenDiscovery());
    if (mechanism instanceof SaslExternal && !externalOffered()) {
      mechanism = null;
    }
    if (mechanism == null || SaslMechanism.carriesToken(mechanismName)
        && !context.authenticator().verifiesTokens()) {
      write(protocol.no(tag, "Unsupported authentication mechanism."));
    } else if (!cleartextRefused() && !context.authenticator().checksPasswords()
        && !SaslMechanism.carriesToken(mechanismName)) {
      refusePasswords(tag, mechanismName);
    } else if (cleartextRefused()
        || SaslMechanism.carriesToken(mechanismName) && !socket.secured()) {
      // A bearer token is never taken before TLS, whatever auth.cleartext allows passwords:
      // it is not offered there, and anyone who reads it can replay it until it expires.
      refuseCleartext(tag, mechanismName);
    } else {
      sasl = new SaslExchange(tag, mechanismName, mechanism);
      saslStep(mechanism.start(initialResponse));
    }
  }

  /** What OAUTHBEARER's error tells of the token wanted: {@code auth.oauth2}'s hints, if any. */
  private TokenDiscovery tokenDiscovery() {
    OAuth2Config oauth2 = context.config().auth().oauth2();
    return oauth2 == null ? TokenDiscovery.NONE
        : new TokenDiscovery(oauth2.scope(), oauth2.openidConfiguration());
  }

  /**
   * Whether EXTERNAL is offered: in a TLS session whose client certificate verified, on a
   * listener that maps certificates to users, with an auth source that can decide a login
   * without a password.
   */
  public boolean externalOffered() {
    ClientCertificate certificate = record.clientCertificate();
    return certificate != null && certificate.verified()
        && context.listener().clientCertificates().user() != ClientCertificateConfig.UserMatch.NONE
        && context.authenticator().decidesExternal();
  }

  /** Logs in with {@code credentials}, unless a password may not be sent here yet. */
  public void login(String tag, String mechanism, Credentials credentials) {
    login(tag, mechanism, credentials, null);
  }

  /** {@code refusal}: how the SASL mechanism tells refused credentials, or null. */
  private void login(String tag, String mechanism, Credentials credentials,
      SaslStep.Refusal refusal) {
    if (cleartextRefused()) {
      refuseCleartext(tag, mechanism);
      return;
    }
    if (!context.authenticator().checksPasswords() && !SaslMechanism.carriesToken(mechanism)) {
      refusePasswords(tag, mechanism);
      return;
    }
    state = State.LOGIN;
    flowControl();
    login = new LoginAttempt(context, record, context.listener().protocol(), mechanism,
        credentials, ++attempts);
    login.run((target, backendCredentials) ->
            protocol.backendLogin(context.backends(), target, tag, backendCredentials))
        .onComplete(ar -> guarded(() -> loginDone(tag, ar.result(), refusal)));
  }

  /** A password came before TLS: refused, never checked, and counted as an attempt. */
  public void refuseCleartext(String tag, String mechanism) {
    context.meters().protocol(context.listener().protocol())
        .login(mechanism, LoginResult.CLEARTEXT_REFUSED);
    // The password may already be on the wire; it is never passed on (STL-05).
    loginFailed(tag, Failed.cleartextRefused(protocol.startTlsCommand()));
  }

  // ---- The lifecycle.

  private void received(Buffer data) {
    switch (state) {
      case COMMANDS, SASL, LOGIN -> {
        if (!decoder.feed(data.getBytes())) {
          end(Goodbye.LINE_TOO_LONG);
          return;
        }
        process();
      }
      // STARTTLS: plaintext that raced the upgrade must never be acted on.
      case STARTTLS, RELAY, CLOSED -> { }
    }
  }

  private void inputEnded() {
    switch (state) {
      case COMMANDS, SASL, LOGIN -> {
        socket.inputEnded();
        process();
      }
      case STARTTLS, RELAY, CLOSED -> { }
    }
  }

  private void process() {
    while (state == State.COMMANDS || state == State.SASL) {
      ClientInput<R> input = decoder.read(state == State.SASL);
      if (input == null) {
        break;
      }
      handle(input);
    }
    if (socket.hasInputEnded() && (state == State.COMMANDS || state == State.SASL)) {
      // Nothing more will come: every complete command has its reply; say nothing more.
      end(null, "closed");
    }
    flowControl();
  }

  private void handle(ClientInput<R> input) {
    if (input instanceof ClientInput.Command<R> command) {
      protocol.command(command.request(), this);
    } else if (input instanceof ClientInput.SaslResponse<R> response) {
      saslResponse(response.line());
    } else if (input instanceof ClientInput.GoAhead<R> goAhead) {
      write(goAhead.reply());
    } else if (input instanceof ClientInput.TooBig<R> tooBig) {
      end(tooBig.why());
    }
  }

  private void saslResponse(byte[] line) {
    if (refusedAfterChallenge != null) {
      // The answer to the refusal challenge (^A, or anything, even *): now the failure.
      Failed failed = refusedAfterChallenge;
      String tag = refusedTag;
      refusedAfterChallenge = null;
      refusedTag = null;
      state = State.COMMANDS;
      loginFailed(tag, failed);
      return;
    }
    if (line.length == 1 && line[0] == '*') {
      String tag = sasl.tag();
      sasl = null;
      state = State.COMMANDS;
      write(protocol.bad(tag, "Authentication cancelled."));
      return;
    }
    saslStep(sasl.mechanism().next(line));
  }

  private void saslStep(SaslStep step) {
    if (step instanceof SaslStep.Challenge challenge) {
      state = State.SASL;
      write("+ " + challenge.base64() + "\r\n");
      return;
    }
    SaslExchange done = sasl;
    sasl = null;
    state = State.COMMANDS;
    if (step instanceof SaslStep.Done credentials) {
      login(done.tag(), done.mechanismName(), credentials.credentials(),
          done.mechanism().refusal());
    } else {
      bad(done.tag(), ((SaslStep.Malformed) step).message());
    }
  }

  private void loginDone(String tag, LoginOutcome outcome, SaslStep.Refusal refusal) {
    login = null;
    if (state != State.LOGIN) {
      // The client left (or Postern is stopping) while the backend was being asked.
      if (outcome instanceof LoginOutcome.LoggedIn in) {
        SocketEnds.close(in.backend().socket());
      }
      return;
    }
    if (outcome instanceof LoginOutcome.LoggedIn in) {
      state = State.RELAY;
      cancelDeadline();
      relay = RelayHandover.start(context, context.listener().protocol(), record, socket,
          in.backend(), Buffer.buffer(decoder.drain()), protocol.responseBoundaries());
      return;
    }
    state = State.COMMANDS;
    Failed failed = (Failed) outcome;
    if (refusal != null && (failed.failure() == LoginOutcome.Failure.BAD_CREDENTIALS
        || failed.failure() == LoginOutcome.Failure.DISABLED)) {
      // RFC 7628 §3.2.2: the error as a challenge; the command fails once the client answers.
      state = State.SASL;
      refusedAfterChallenge = failed;
      refusedTag = tag;
      write("+ " + refusal.base64() + "\r\n");
    } else {
      loginFailed(tag, failed);
    }
    process();
  }

  /** Answers a failed login; {@code auth.max-attempts} failures end the session. */
  private void loginFailed(String tag, Failed failed) {
    String reply = protocol.loginFailed(tag, failed);
    if (failed.failure().spendsAnAttempt()
        && ++failedLogins >= context.config().auth().maxAttempts()) {
      end(protocol.goodbye(Goodbye.TOO_MANY_ATTEMPTS, reply), Goodbye.TOO_MANY_ATTEMPTS.result());
    } else {
      write(reply);
    }
  }

  /** Reads only while commands are wanted and the client takes its replies. */
  private void flowControl() {
    switch (state) {
      case COMMANDS, SASL -> socket.readWhileWritable(() -> guarded(this::flowControl));
      case LOGIN -> socket.pause();
      case STARTTLS, RELAY, CLOSED -> { }
    }
  }

  /** Runs session code so that a bug costs this one connection, never the event loop. */
  private void guarded(Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      LOG.error("session={} internal error, closing", record.id(), e);
      end(Goodbye.INTERNAL_ERROR);
    }
  }

  private void shuttingDown() {
    end(Goodbye.SHUTDOWN);
  }

  /** What the live-session directory sees of this session and asks of it. */
  private LiveSessions.Live live() {
    return new LiveSessions.Live() {
      @Override
      public SessionView view() {
        if (state == State.CLOSED) {
          return null;
        }
        return new SessionView(record.id(), record.user(), record.clientIp(),
            record.clientPort(), context.listener().name(), context.listener().protocol().id(),
            record.backend(), record.server(),
            record.tlsProtocol(), record.since(), relay == null ? 0 : relay.toClient(),
            relay == null ? 0 : relay.toBackend(), state == State.RELAY);
      }

      @Override
      public void end(String result) {
        guarded(() -> endFromOutside(result));
      }
    };
  }

  /**
   * Ended from outside (drain, shutdown, kick): before login the goodbye at once; logged in,
   * the relay ends between two backend responses with the goodbye (IMAP), bounded by what is
   * left of the shutdown grace, or is closed (a protocol without such points, POP3).
   */
  private void endFromOutside(String result) {
    Goodbye why = Goodbye.SHUTDOWN.result().equals(result) ? Goodbye.SHUTDOWN : Goodbye.ENDED;
    switch (state) {
      case RELAY -> {
        if (relay != null) {
          record.requestedEnd(result);
          relay.end(Buffer.buffer(protocol.goodbye(why, null)),
              context.shutdown().graceLeft(limits.shutdownGrace()));
        }
      }
      case CLOSED -> { }
      default -> end(state == State.STARTTLS ? null : protocol.goodbye(why, null), result);
    }
  }

  /** Postern ends the session itself; nothing in plaintext while STARTTLS is under way. */
  private void end(Goodbye why) {
    end(state == State.STARTTLS ? null : protocol.goodbye(why, null), why.result());
  }

  private void cancelDeadline() {
    if (deadline >= 0) {
      context.vertx().cancelTimer(deadline);
      deadline = -1;
    }
  }

  /** The socket closed, whoever closed it. */
  private void closed() {
    if (state != State.RELAY) {
      state = State.CLOSED;
      cancelDeadline();
      if (login != null) {
        // A login still waiting for its turn must not hold its place for a client that left.
        login.cancel();
      }
      record.end(endResult);
    }
  }
}
