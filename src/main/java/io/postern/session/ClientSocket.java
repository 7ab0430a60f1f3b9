package io.postern.session;

import io.postern.metrics.ListenerMeters;
import io.postern.net.SocketEnds;
import io.postern.tls.AlpnRefusal;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.ServerSSLOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLSession;

/**
 * The client's socket before login, with the rules every protocol keeps: nothing is written
 * while a STARTTLS upgrade is in flight (its OK travels with the upgrade itself) or once closing
 * began; commands are read only while the client takes its replies; and a close cannot hang on
 * a client that stops reading.
 */
final class ClientSocket {

  private final NetSocket socket;
  private final Duration lingerLimit;
  private final ListenerMeters meters;
  private boolean upgrading;
  private boolean closing;
  private boolean closed;
  private boolean inputEnded;

  /** {@code lingerLimit} bounds how long a close waits for a client to take its last replies. */
  ClientSocket(NetSocket socket, Duration lingerLimit, ListenerMeters meters) {
    this.socket = socket;
    this.lingerLimit = lingerLimit;
    this.meters = meters;
    // A client that stops sending after its last command still gets every reply.
    SocketEnds.allowHalfClose(socket);
  }

  /**
   * Where the socket's events go: its bytes, the client's end of input, a network error, and
   * the close (whoever closed it). Shutdown is Vert.x's notice that the listener stops.
   */
  void handlers(Handler<Buffer> data, Runnable ended, Runnable error, Runnable whenClosed,
      Runnable shutdown) {
    SocketEnds.onInput(socket, data, ended);
    socket.exceptionHandler(e -> error.run());
    socket.closeHandler(v -> {
      closed = true;
      whenClosed.run();
    });
    socket.shutdownHandler(v -> shutdown.run());
  }

  /** The socket itself, for the relay to take over. */
  NetSocket netSocket() {
    return socket;
  }

  boolean secured() {
    return socket.isSsl();
  }

  /** The TLS session, or null before TLS. */
  SSLSession sslSession() {
    return socket.isSsl() ? socket.sslSession() : null;
  }

  int remotePort() {
    return socket.remoteAddress().port();
  }

  void write(String text) {
    write(Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)));
  }

  void write(Buffer data) {
    if (!upgrading && !closed && !closing) {
      socket.write(data);
    }
  }

  /**
   * Starts TLS. {@code okLine} goes out as part of the upgrade, before the TLS handler is in
   * place; anything written separately could overtake it in plaintext.
   */
  Future<Void> upgrade(ServerSSLOptions options, String okLine) {
    upgrading = true;
    Future<Void> upgraded;
    try {
      upgraded = socket.upgradeToSsl(options,
          Buffer.buffer(okLine.getBytes(StandardCharsets.US_ASCII)));
    } catch (RuntimeException e) {
      upgraded = Future.failedFuture(e);
    }
    return upgraded.andThen(ar -> {
      upgrading = false;
      if (ar.succeeded()) {
        SSLSession session = sslSession();
        meters.handshake(session != null ? session.getProtocol() : "unknown");
      } else if (AlpnRefusal.isCause(ar.cause())) {
        meters.handshakeRefusedAlpn();
      } else {
        meters.handshakeFailed(ar.cause());
      }
    });
  }

  /**
   * Reads commands, unless the client is not taking its replies: then reading waits until they
   * drain (so a pipelining flood is bounded by the write queue), and {@code again} runs.
   */
  void readWhileWritable(Runnable again) {
    if (socket.writeQueueFull()) {
      socket.pause();
      socket.drainHandler(v -> again.run());
    } else {
      socket.resume();
    }
  }

  void pause() {
    socket.pause();
  }

  void resume() {
    socket.resume();
  }

  /** The client has stopped sending (FIN or TLS close_notify); replies may still go out. */
  void inputEnded() {
    inputEnded = true;
  }

  boolean hasInputEnded() {
    return inputEnded;
  }

  /**
   * Closes once the queued replies are out and the client has closed its side too, or resets
   * the connection after the linger limit: a client that never reads would otherwise hold the
   * connection (and its slot) forever, or leave its unread replies to the kernel.
   */
  void close() {
    if (!closing) {
      closing = true;
      SocketEnds.closeLingering(socket, lingerLimit);
    }
  }
}
