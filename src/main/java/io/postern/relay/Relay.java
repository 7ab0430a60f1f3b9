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
 * Asked to end ({@link #end}), it ends where the backend is between two responses, as the
 * protocol's {@link ResponseBoundaries} follow them.
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
  /** Follows the backend's responses; null: the protocol has no safe point to end at. */
  private final ResponseBoundaries boundaries;
  /** Set once asked to end: said at the next point between two responses, then both close. */
  private Buffer lastWord;
  private long endTimer = -1;
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

  /** What ended a relay that was asked to ({@link #end}), in {@link RelayResult#endedBy}. */
  public static final String REQUESTED = "request";

  private Relay(Vertx vertx, NetSocket client, NetSocket backend, Duration idleTimeout,
      Supplier<Duration> shutdownGraceLeft, Counters counters, ResponseBoundaries boundaries) {
    this.boundaries = boundaries;
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
   * what {@code shutdownGraceLeft} says is left of the shutdown grace. {@code boundaries}
   * follows the backend's responses from here on (null: the protocol has none to end at).
   */
  public static Relay start(Vertx vertx, NetSocket client, NetSocket backend,
      Buffer fromClient, Buffer fromBackend, boolean clientDone, Duration idleTimeout,
      Supplier<Duration> shutdownGraceLeft, Counters counters, ResponseBoundaries boundaries) {
    Relay relay = new Relay(vertx, client, backend, idleTimeout, shutdownGraceLeft, counters,
        boundaries);
    relay.begin(fromClient, fromBackend, clientDone);
    return relay;
  }

  /** Completes when both connections have closed. */
  public Future<RelayResult> result() {
    return done.future();
  }

  /** Bytes passed to the client so far (on the relay's event loop). */
  public long toClient() {
    return toClient;
  }

  /** Bytes passed to the backend so far (on the relay's event loop). */
  public long toBackend() {
    return toBackend;
  }

  /**
   * Ends the relay, on its event loop: at once if the backend is between two responses, else at
   * the next such point, relaying until there (what the backend sends after it is not passed
   * on); there the client gets {@code lastWord} (may be empty), and both connections close.
   * Without such a point within {@code within}, or without {@link ResponseBoundaries}, both
   * close where the stream stands, with no last word.
   */
  public void end(Buffer lastWord, Duration within) {
    if (endedBy != null || this.lastWord != null) {
      return;
    }
    if (boundaries == null) {
      finish(REQUESTED);
      return;
    }
    this.lastWord = lastWord;
    if (boundaries.between()) {
      sayLastWord();
      return;
    }
    endTimer = vertx.setTimer(Math.max(1, within.toMillis()), id -> {
      endTimer = -1;
      if (endedBy == null) {
        // The backend is still in the middle of a response: nothing it sends matters now, and
        // a graceful close would wait for it to finish. The client gets what it has, then a FIN.
        SocketEnds.abort(backend);
        finish(REQUESTED);
      }
    });
  }

  private void sayLastWord() {
    if (endedBy != null) {
      return;
    }
    if (lastWord.length() > 0) {
      toClient(lastWord.length());
      client.write(lastWord);
    }
    finish(REQUESTED);
  }

  private void begin(Buffer fromClient, Buffer fromBackend, boolean clientDone) {
    if (fromBackend.length() > 0) {
      if (boundaries != null) {
        boundaries.follow(fromBackend, false);
      }
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
    // this verticle's timers then. So the relay ends itself a moment before. 1 ms is enough, on
    // a busy machine too: this timer and Vert.x's close are scheduled on the connection's event
    // loop, which runs them in deadline order however late, and the grace left is counted from
    // the start of the drain, before Vert.x starts its own count.
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
    SocketEnds.onInput(from, input -> {
      if (endedBy != null && lastWord != null) {
        // Ended between two responses: nothing after that point is passed on.
        return;
      }
      Buffer data = input;
      lastActivity = System.nanoTime();
      boolean lastChunk = false;
      if (!upstream && boundaries != null) {
        if (lastWord == null) {
          boundaries.follow(data, false);
        } else {
          // Asked to end: pass on up to the end of the response under way, and stop there.
          int n = boundaries.follow(data, true);
          lastChunk = boundaries.between();
          if (n < data.length()) {
            data = data.slice(0, n);
          }
        }
      }
      if (upstream) {
        toBackend(data.length());
      } else {
        toClient(data.length());
      }
      to.write(data);
      if (lastChunk) {
        sayLastWord();
        return;
      }
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
      vertx.cancelTimer(endTimer);
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
      vertx.cancelTimer(endTimer);
      done.complete(new RelayResult(toClient, toBackend, endedBy == null ? "client" : endedBy));
    }
  }
}
