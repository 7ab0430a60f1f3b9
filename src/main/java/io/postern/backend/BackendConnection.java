package io.postern.backend;

import io.postern.backend.BackendLoginException.Kind;
import io.postern.config.TlsMode;
import io.postern.net.ReceivedBytes;
import io.postern.net.SocketEnds;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A backend connection during login: reads reply lines with a length limit, writes commands, and
 * upgrades to TLS. One deadline covers the whole login; when it passes, the connection is reset
 * and whatever is pending fails. Backend input is untrusted: lines are bounded, and nothing the
 * backend sent before a TLS upgrade survives it.
 */
public final class BackendConnection {

  /** Generous for CAPABILITY lines, small enough to bound memory per login. */
  static final int MAX_LINE = 64 * 1024;

  private final io.vertx.core.Vertx vertx;
  private final NetSocket socket;
  private final BackendTarget target;
  private final long deadline;
  /** Until the first line arrives; then only {@link #deadline} is left. */
  private final long greeting;
  /** What the backend sent and the login has not read yet; a little over one line at most. */
  private final ReceivedBytes received = new ReceivedBytes(1024, MAX_LINE + 4096);
  private Promise<String> lineWanted;
  private long skipRemaining;
  private Promise<Void> skipWanted;
  private BackendLoginException failure;
  private boolean upgrading;
  private boolean finished;
  /** Set once the user's credentials are on their way: no other server may be tried after. */
  private boolean credentialsSent;

  private BackendConnection(NetSocket socket, BackendTarget target, long deadlineNanos,
      long greetByNanos, io.vertx.core.Vertx vertx) {
    this.vertx = vertx;
    this.socket = socket;
    this.target = target;
    this.deadline = vertx.setTimer(millisUntil(deadlineNanos), id -> fail(
        new BackendLoginException(Kind.TIMEOUT, target + " did not complete the login in time")));
    this.greeting = vertx.setTimer(millisUntil(greetByNanos), id -> fail(
        new BackendLoginException(Kind.TIMEOUT, target + " sent no greeting in time")));
    socket.handler(this::received);
    socket.closeHandler(v -> fail(new BackendLoginException(Kind.UNREACHABLE,
        target + " closed the connection during login")));
    socket.exceptionHandler(e -> fail(new BackendLoginException(
        upgrading || target.tls() == TlsMode.IMPLICIT ? Kind.TLS : Kind.UNREACHABLE,
        target + ": " + BackendConnector.describe(e))));
  }

  /**
   * Connects (with the TLS handshake for implicit TLS). Two deadlines: the server must connect
   * and send its first line within {@code backend-connect-timeout}, so that a dead or stalled
   * server leaves time to try another; and the whole login must end by the target's deadline
   * ({@code backend-login-timeout} from the first server tried, shared by every server tried).
   */
  public static Future<BackendConnection> open(BackendConnector connector, BackendTarget target) {
    io.vertx.core.Vertx vertx = connector.vertx();
    long now = System.nanoTime();
    long deadline = target.deadlineNanos() != 0 ? target.deadlineNanos()
        : now + connector.limits().backendLoginTimeout().toNanos();
    long greetBy = Math.min(deadline, now + connector.limits().backendConnectTimeout().toNanos());
    Promise<BackendConnection> opened = Promise.promise();
    long timer = vertx.setTimer(millisUntil(greetBy), id -> opened.tryFail(
        new BackendLoginException(Kind.TIMEOUT, target + " did not connect within "
            + Duration.ofNanos(greetBy - now).toMillis() + " ms").beforeCredentials()));
    connector.connect(target).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.failed()) {
        opened.tryFail(ar.cause() instanceof BackendLoginException b ? b.beforeCredentials()
            : ar.cause());
      } else if (opened.future().isComplete()) {
        ar.result().close();
      } else {
        opened.complete(new BackendConnection(ar.result(), target, deadline, greetBy, vertx));
      }
    });
    return opened.future();
  }

  /** Whole milliseconds from now until {@code nanos}, at least 1. */
  private static long millisUntil(long nanos) {
    return Math.max(1, (nanos - System.nanoTime() + 999_999) / 1_000_000);
  }

  public BackendTarget target() {
    return target;
  }

  public boolean secured() {
    return socket.isSsl();
  }

  /** The next line, without its CRLF, as ISO-8859-1 so that every byte survives. */
  public Future<String> readLine() {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    lineWanted = Promise.promise();
    Future<String> f = lineWanted.future();
    serve();
    return f;
  }

  /** Reads and drops {@code n} bytes (the body of a literal in an untagged reply). */
  public Future<Void> skip(long n) {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    skipRemaining = n;
    skipWanted = Promise.promise();
    Future<Void> f = skipWanted.future();
    serve();
    return f;
  }

  public Future<Void> send(Buffer command) {
    if (failure != null) {
      return Future.failedFuture(failure);
    }
    // A write that fails because the connection went away reports why it went away.
    return socket.write(command).recover(e -> {
      if (failure == null) {
        fail(new BackendLoginException(Kind.UNREACHABLE, target + ": "
            + BackendConnector.describe(e)));
      }
      return Future.failedFuture(failure);
    });
  }

  /**
   * The next command carries the user's credentials. Whatever fails from here on is the answer
   * to this login, so the login must not be tried at another server.
   */
  public void credentialsSent() {
    credentialsSent = true;
  }

  public Future<Void> send(String asciiCommand) {
    return send(Buffer.buffer(asciiCommand.getBytes(StandardCharsets.US_ASCII)));
  }

  /**
   * Upgrades after the backend accepted STARTTLS/STLS. Any byte already received after that
   * reply was sent in plaintext by someone, so the login is aborted instead (STL-21).
   */
  public Future<Void> startTls() {
    if (received.size() > 0) {
      return failWith(new BackendLoginException(Kind.TLS, target
          + " sent data after its STARTTLS reply; refusing to continue"));
    }
    upgrading = true;
    return socket.upgradeToSsl(target.sslOptions(), target.sniName(), null)
        .transform(ar -> {
          upgrading = false;
          if (failure != null) {
            return Future.failedFuture(failure);
          }
          if (ar.failed()) {
            return failWith(new BackendLoginException(Kind.TLS,
                "TLS with " + target + " failed: " + BackendConnector.describe(ar.cause())));
          }
          return Future.succeededFuture();
        });
  }

  /** Login done: stops reading and hands the socket over, with any bytes read past the reply. */
  public BackendSession finish(Buffer clientReply) {
    finished = true;
    vertx.cancelTimer(deadline);
    vertx.cancelTimer(greeting);
    socket.pause();
    socket.handler(null);
    socket.closeHandler(null);
    socket.exceptionHandler(null);
    Buffer leftover = Buffer.buffer(received.drain());
    String protocol = socket.isSsl() && socket.sslSession() != null
        ? socket.sslSession().getProtocol() : null;
    return new BackendSession(socket, target, clientReply, leftover, protocol);
  }

  /** Gives up: closes the socket. */
  public void abort() {
    if (!finished) {
      finished = true;
      vertx.cancelTimer(deadline);
      vertx.cancelTimer(greeting);
      socket.close();
    }
  }

  /** Fails the login with {@code e} and closes the connection. */
  public <T> Future<T> failWith(BackendLoginException e) {
    fail(e);
    return Future.failedFuture(failure != null ? failure : e);
  }

  private void received(Buffer data) {
    if (finished) {
      return;
    }
    if (upgrading) {
      // Plaintext that raced the TLS upgrade: never parse it (nginx CVE-2026-1642 class).
      fail(new BackendLoginException(Kind.TLS, target + " sent data during the TLS upgrade"));
      return;
    }
    if (!received.append(data.getBytes())) {
      fail(new BackendLoginException(Kind.PROTOCOL, target + " sent a reply over "
          + MAX_LINE + " bytes during login"));
      return;
    }
    serve();
  }

  private void serve() {
    if (skipWanted != null) {
      int take = (int) Math.min(skipRemaining, received.size());
      received.consume(take);
      skipRemaining -= take;
      if (skipRemaining > 0) {
        return;
      }
      Promise<Void> p = skipWanted;
      skipWanted = null;
      p.complete();
    }
    if (lineWanted == null) {
      return;
    }
    int lf = received.indexOf((byte) '\n', 0);
    if (lf >= 0) {
      int lineEnd = lf > 0 && received.at(lf - 1) == '\r' ? lf - 1 : lf;
      String line = new String(received.copy(0, lineEnd), StandardCharsets.ISO_8859_1);
      received.consume(lf + 1);
      vertx.cancelTimer(greeting);
      Promise<String> p = lineWanted;
      lineWanted = null;
      p.complete(line);
    } else if (received.size() > MAX_LINE) {
      fail(new BackendLoginException(Kind.PROTOCOL, target + " sent a line over " + MAX_LINE
          + " bytes during login"));
    }
  }

  private void fail(BackendLoginException e) {
    if (failure != null || finished) {
      return;
    }
    failure = credentialsSent ? e : e.beforeCredentials();
    vertx.cancelTimer(deadline);
    vertx.cancelTimer(greeting);
    if (e.kind() == Kind.TIMEOUT) {
      // A backend that stalls may not be reading either: nothing is left queued for it.
      SocketEnds.abort(socket);
    } else {
      socket.close();
    }
    if (lineWanted != null) {
      Promise<String> p = lineWanted;
      lineWanted = null;
      p.fail(failure);
    }
    if (skipWanted != null) {
      Promise<Void> p = skipWanted;
      skipWanted = null;
      p.fail(failure);
    }
  }
}
