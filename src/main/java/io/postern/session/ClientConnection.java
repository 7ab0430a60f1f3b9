package io.postern.session;

import io.postern.backend.BackendSession;
import io.postern.config.AuthConfig;
import io.postern.config.Cidr;
import io.postern.listener.ListenerContext;
import io.postern.metrics.ProtocolMeters;
import io.postern.relay.Relay;
import io.postern.relay.SocketEnds;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLSession;

/**
 * A client's socket with the rules every session shares: nothing is written while a STARTTLS
 * upgrade is in flight (the OK line travels with the upgrade itself), one pre-auth deadline that
 * incoming bytes do not extend, and exactly one session log line at the end.
 */
public final class ClientConnection {

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(ClientConnection.class);

  private final ListenerContext context;
  private final NetSocket socket;
  private final InetAddress clientAddress;
  private final String id;
  private final long startNanos = System.nanoTime();
  private boolean upgrading;
  private boolean closing;
  private boolean closed;
  private long deadline = -1;
  private String user;
  private String backend;
  private String result = "closed";
  private boolean logged;
  private String tlsProtocol;
  private String tlsCipher;
  private boolean inputEnded;
  private int badCommands;
  private int failedLogins;
  private long toClient;
  private long toBackend;
  private Runnable onClosed = this::logEnd;
  private Runnable onEnd = () -> { };

  public ClientConnection(ListenerContext context, NetSocket socket, InetAddress clientAddress) {
    this.context = context;
    this.socket = socket;
    this.clientAddress = clientAddress;
    this.id = String.format("%012x", ThreadLocalRandom.current().nextLong() & 0xffffffffffffL);
    rememberTls();
    // A client that stops sending after its last command still gets every reply.
    SocketEnds.allowHalfClose(socket);
    socket.closeHandler(v -> {
      closed = true;
      cancelDeadline();
      onClosed.run();
    });
  }

  /** Called once, with the session log line, whichever way the session ended. */
  public void onEnd(Runnable action) {
    this.onEnd = action;
  }

  /** Called once when the socket has closed, whoever closed it. */
  public void whenClosed(Runnable action) {
    this.onClosed = action;
  }

  public ListenerContext context() {
    return context;
  }

  public NetSocket socket() {
    return socket;
  }

  public String id() {
    return id;
  }

  /** The client's address (the one a trusted PROXY header named, if any). */
  public InetAddress clientAddress() {
    return clientAddress;
  }

  public String clientIp() {
    return Cidr.text(clientAddress);
  }

  public boolean secured() {
    return socket.isSsl();
  }

  /** True when a password must not be accepted on this connection in its current state. */
  public boolean cleartextRefused() {
    return !secured() && context.config().auth().cleartext() == AuthConfig.Cleartext.TLS_ONLY;
  }

  /** The negotiated TLS version, or null before TLS; still known after the socket closed. */
  public String tlsProtocol() {
    return tlsProtocol;
  }

  public String tlsCipher() {
    return tlsCipher;
  }

  private void rememberTls() {
    SSLSession session = socket.isSsl() ? socket.sslSession() : null;
    if (session != null) {
      tlsProtocol = session.getProtocol();
      tlsCipher = session.getCipherSuite();
    }
  }

  /** Writes protocol text; dropped while upgrading or closing (never plaintext after STARTTLS OK). */
  public void write(String text) {
    if (!upgrading && !closed && !closing) {
      socket.write(Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)));
    }
  }

  public void write(Buffer data) {
    if (!upgrading && !closed && !closing) {
      socket.write(data);
    }
  }

  /**
   * Starts TLS. {@code okLine} goes out as part of the upgrade, before the TLS handler is in
   * place; anything written separately could overtake it in plaintext.
   */
  public Future<Void> upgrade(String okLine) {
    upgrading = true;
    Future<Void> upgraded;
    try {
      upgraded = socket.upgradeToSsl(context.tls().options(),
          Buffer.buffer(okLine.getBytes(StandardCharsets.US_ASCII)));
    } catch (RuntimeException e) {
      upgraded = Future.failedFuture(e);
    }
    return upgraded
        .andThen(ar -> {
          upgrading = false;
          rememberTls();
          if (ar.succeeded()) {
            context.listenerMeters().handshake(tlsProtocol != null ? tlsProtocol : "unknown");
          } else {
            context.listenerMeters().handshakeFailed(ar.cause());
          }
        });
  }

  /** Records how the session ended, sends {@code lastLine} (if any) and closes. */
  public void end(String lastLine, String outcome) {
    result(outcome);
    if (lastLine != null) {
      write(lastLine);
    }
    close();
  }

  /**
   * Reads commands, unless the client is not taking its replies: then reading waits until they
   * drain (so a pipelining flood is bounded by the write queue), and {@code again} runs.
   */
  public void readCommands(Runnable again) {
    if (socket.writeQueueFull()) {
      socket.pause();
      socket.drainHandler(v -> again.run());
    } else {
      socket.resume();
    }
  }

  /**
   * Closes once the queued replies are out, or after {@code limits.handshake-timeout} in any case:
   * a client that never reads would otherwise hold the connection (and its slot) forever.
   */
  public void close() {
    if (!closing) {
      closing = true;
      cancelDeadline();
      SocketEnds.close(socket);
      context.vertx().setTimer(context.config().limits().handshakeTimeout().toMillis(), id -> {
        if (!closed) {
          SocketEnds.abort(socket);
        }
      });
    }
  }

  /** The client has stopped sending (FIN or TLS close_notify); replies may still go out. */
  public void inputEnded() {
    inputEnded = true;
  }

  public boolean hasInputEnded() {
    return inputEnded;
  }

  /** Counts an invalid command; true once {@code limits.max-bad-commands} is reached. */
  public boolean badCommand() {
    return ++badCommands >= context.config().limits().maxBadCommands();
  }

  /** Counts a failed login; true once {@code auth.max-attempts} is reached. */
  public boolean failedLogin() {
    return ++failedLogins >= context.config().auth().maxAttempts();
  }

  /**
   * Runs session code so that a bug costs this one connection, never the event loop or another
   * session: {@code onBug} ends the session with the protocol's apology.
   */
  public void guarded(Runnable action, Runnable onBug) {
    try {
      action.run();
    } catch (RuntimeException e) {
      LOG.error("session={} internal error, closing", id, e);
      onBug.run();
    }
  }

  public void startDeadline(Duration after, Runnable onExpiry) {
    cancelDeadline();
    deadline = context.vertx().setTimer(after.toMillis(), id -> {
      deadline = -1;
      onExpiry.run();
    });
  }

  public void cancelDeadline() {
    if (deadline >= 0) {
      context.vertx().cancelTimer(deadline);
      deadline = -1;
    }
  }

  public void user(String name) {
    this.user = name;
  }

  public void backend(String name) {
    this.backend = name;
  }

  /** The backend chosen for this login, or null before one is chosen. */
  public String backend() {
    return backend;
  }

  public void result(String outcome) {
    this.result = outcome;
  }

  public void relayed(long bytesToClient, long bytesToBackend) {
    this.toClient = bytesToClient;
    this.toBackend = bytesToBackend;
  }

  /**
   * Hands the connection to the relay: sends the login reply, then relays until either side
   * ends, and writes the session log line. {@code pipelined} are the client's bytes after its
   * login command.
   */
  public void relay(BackendSession session, Buffer pipelined) {
    cancelDeadline();
    result("relayed");
    socket.pause();
    write(session.clientReply());
    ProtocolMeters meters = context.meters().protocol(context.listener().protocol());
    try {
      Relay.start(context.vertx(), socket, session.socket(), pipelined, session.leftover(),
              inputEnded, context.config().limits().idleTimeout(),
              new Relay.Counters(meters.bytesToClient()::increment,
                  meters.bytesToBackend()::increment))
          .onComplete(ar -> {
            meters.sessionEnded(Duration.ofNanos(System.nanoTime() - startNanos));
            relayed(ar.result().toClient(), ar.result().toBackend());
            result("ended_by_" + ar.result().endedBy());
            closed = true;
            logEnd();
          });
      meters.sessionStarted();
    } catch (RuntimeException e) {
      LOG.error("session={} relay failed to start", id, e);
      SocketEnds.abort(session.socket());
      SocketEnds.abort(socket);
      result("internal_error");
      closed = true;
      logEnd();
    }
  }

  /** Writes the session log line; later calls do nothing. */
  public void logEnd() {
    if (logged) {
      return;
    }
    logged = true;
    cancelDeadline();
    try {
      String ip = clientIp();
      String client = (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + socket.remoteAddress().port();
      SessionLog.write(new SessionLog.Entry(id, context.listener().name(),
          context.listener().protocol().id(), client, tlsProtocol(),
          user, backend, result, Duration.ofNanos(System.nanoTime() - startNanos), toClient,
          toBackend));
    } finally {
      // Releases the connection-limit slot whatever happened above.
      onEnd.run();
    }
  }
}
