package io.postern.relay;

import io.postern.net.SocketEnds;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.time.Duration;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The byte pipe between a logged-in client and its backend. Bytes pass unchanged, in order, in
 * both directions. A side that cannot keep up pauses the other (memory stays at a few socket
 * buffers per session, whatever the message size). Traffic either way resets the idle timer.
 * When the client stops sending, the backend is told (half-close) and may still answer; when the
 * backend ends, the client gets everything already received and then the connection closes.
 */
public final class Relay {

  /** How long an ending session may take to hand over what is still queued. */
  static final long MAX_LINGER_MILLIS = 300_000;

  private final Vertx vertx;
  private final NetSocket client;
  private final NetSocket backend;
  private final Duration idleTimeout;
  private final Supplier<Duration> shutdownGraceLeft;
  private final Counters counters;
  private final Promise<RelayResult> done = Promise.promise();
  private long toClient;
  private long toBackend;
  private long lastActivity = System.nanoTime();
  private long idleTimer = -1;
  private long shutdownTimer = -1;
  private boolean clientInputEnded;
  private boolean clientClosed;
  private boolean backendClosed;
  private String endedBy;

  /** Where relayed byte counts go as they pass (metrics), besides the session's own totals. */
  public record Counters(LongConsumer toClient, LongConsumer toBackend) {}

  private Relay(Vertx vertx, NetSocket client, NetSocket backend, Duration idleTimeout,
      Supplier<Duration> shutdownGraceLeft, Counters counters) {
    this.vertx = vertx;
    this.client = client;
    this.backend = backend;
    this.idleTimeout = idleTimeout;
    this.shutdownGraceLeft = shutdownGraceLeft;
    this.counters = counters;
  }

  /**
   * Starts relaying. {@code fromClient} are bytes the client sent after its login command;
   * {@code fromBackend} bytes the backend sent after its login reply; {@code clientDone} says the
   * client already stopped sending. Both sockets must be paused, and the client's must allow
   * half-close ({@link SocketEnds#allowHalfClose}). When Postern stops, the relay may go on for
   * what {@code shutdownGraceLeft} says is left of the shutdown grace.
   */
  public static Future<RelayResult> start(Vertx vertx, NetSocket client, NetSocket backend,
      Buffer fromClient, Buffer fromBackend, boolean clientDone, Duration idleTimeout,
      Supplier<Duration> shutdownGraceLeft, Counters counters) {
    Relay relay = new Relay(vertx, client, backend, idleTimeout, shutdownGraceLeft, counters);
    relay.begin(fromClient, fromBackend, clientDone);
    return relay.done.future();
  }

  private void begin(Buffer fromClient, Buffer fromBackend, boolean clientDone) {
    if (fromBackend.length() > 0) {
      toClient(fromBackend.length());
      client.write(fromBackend);
    }
    if (fromClient.length() > 0) {
      toBackend(fromClient.length());
      backend.write(fromClient);
    }
    if (clientDone) {
      clientInputEnded();
    }
    pipe(client, backend, true);
    pipe(backend, client, false);
    // End handlers run after every byte queued before the end: acting on the (unordered) close
    // event instead would cut off what a paused socket still holds.
    client.endHandler(v -> finish("client"));
    backend.endHandler(v -> finish("backend"));
    client.closeHandler(v -> {
      clientClosed = true;
      complete();
    });
    backend.closeHandler(v -> {
      backendClosed = true;
      complete();
    });
    client.exceptionHandler(e -> finish("client"));
    backend.exceptionHandler(e -> finish("backend"));
    // Vert.x's notice that the listener stops. It closes the connection itself when the grace
    // is over, but gracefully, which waits forever for a peer that does not read; and it cancels
    // this verticle's timers then. So the relay ends itself a moment before.
    client.shutdownHandler(v -> {
      if (shutdownTimer < 0) {
        long left = Math.max(1, shutdownGraceLeft.get().toMillis() - 1);
        shutdownTimer = vertx.setTimer(left, id -> shutdownGraceOver());
      }
    });
    long check = Math.max(50, Math.min(idleTimeout.toMillis() / 4, 30_000));
    idleTimer = vertx.setPeriodic(check, id -> checkIdle());
    client.resume();
    backend.resume();
  }

  private void pipe(NetSocket from, NetSocket to, boolean upstream) {
    // Only the client's socket allows half-close, so only it ever reports an end of input.
    SocketEnds.onInput(from, data -> {
      lastActivity = System.nanoTime();
      if (upstream) {
        toBackend(data.length());
      } else {
        toClient(data.length());
      }
      to.write(data);
      if (to.writeQueueFull()) {
        from.pause();
        to.drainHandler(v -> from.resume());
      }
    }, this::clientInputEnded);
  }

  private void toClient(int n) {
    toClient += n;
    counters.toClient().accept(n);
  }

  private void toBackend(int n) {
    toBackend += n;
    counters.toBackend().accept(n);
  }

  private void clientInputEnded() {
    if (clientInputEnded) {
      return;
    }
    clientInputEnded = true;
    // An empty write completes after everything queued before it has gone out.
    backend.write(Buffer.buffer()).onComplete(ar -> SocketEnds.shutdownOutput(backend));
  }

  private void checkIdle() {
    if (System.nanoTime() - lastActivity >= idleTimeout.toNanos()) {
      finish("idle");
    }
  }

  private void finish(String side) {
    if (endedBy == null) {
      endedBy = side;
      vertx.cancelTimer(idleTimer);
      // Nothing more is relayed. Each side gets what is queued for it (the end of a message, the
      // tagged OK of a LOGOUT) and then a FIN; a side that does not take them within the linger
      // time is not reading, and its connection is reset rather than left to the kernel.
      Duration linger = Duration.ofMillis(Math.min(idleTimeout.toMillis(), MAX_LINGER_MILLIS));
      for (NetSocket socket : new NetSocket[] {client, backend}) {
        if (side.equals("idle") && socket.writeQueueFull()) {
          // It has not taken a byte of its queue for the whole idle timeout: it never will.
          SocketEnds.abort(socket);
        } else {
          SocketEnds.closeLingering(socket, linger);
        }
      }
    }
    complete();
  }

  /**
   * Postern is stopping: the relay had the shutdown grace to end by itself; when it is over,
   * both connections are reset (a graceful close would wait for a peer that does not read).
   */
  private void shutdownGraceOver() {
    if (endedBy == null) {
      endedBy = "shutdown";
      vertx.cancelTimer(idleTimer);
    }
    SocketEnds.abort(client);
    SocketEnds.abort(backend);
  }

  private void complete() {
    if (clientClosed && backendClosed && !done.future().isComplete()) {
      vertx.cancelTimer(idleTimer);
      vertx.cancelTimer(shutdownTimer);
      done.complete(new RelayResult(toClient, toBackend, endedBy == null ? "client" : endedBy));
    }
  }
}
