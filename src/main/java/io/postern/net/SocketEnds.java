package io.postern.net;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How sockets end, where Vert.x's public NetSocket API has no word for it: half-close (a client
 * that sends {@code LOGOUT} and then shuts down its sending side must still get the backend's
 * {@code BYE} and tagged {@code OK}), a close that waits for the peer's close within a deadline,
 * and a reset (SO_LINGER 0) for a peer that stops reading, whose graceful close would wait
 * forever for the queued data to drain, or leave it to the kernel. Netty has all three; this
 * reaches Netty through Vert.x's internal socket interface.
 */
public final class SocketEnds {

  /** Name of the handler that turns "the peer stopped sending" into an in-band marker. */
  static final String MARKER = "postern-input-end";
  /** Name of Vert.x's own handler in a socket's pipeline; the marker goes right before it. */
  static final String VERTX_HANDLER = "handler";
  private static final long CHECK_TIMEOUT_SECONDS = 10;

  private SocketEnds() {}

  /**
   * Makes a peer's FIN (or TLS close_notify) arrive in order after every byte before it, as the
   * {@code ended} callback of {@link #onInput}, instead of closing the socket. Vert.x queues data
   * while a socket is paused but hands events over at once, so an event would overtake data
   * still waiting to be relayed.
   *
   * @throws IllegalStateException when Vert.x's socket is not built as this expects (its
   *     internals changed): {@link #check} turns that into a start-up error
   */
  public static void allowHalfClose(NetSocket socket) {
    Channel channel = channel(socket);
    if (channel.pipeline().get(MARKER) != null) {
      return;
    }
    if (channel.pipeline().get(VERTX_HANDLER) == null) {
      throw new IllegalStateException("half-close needs Vert.x's pipeline handler '"
          + VERTX_HANDLER + "', but the pipeline holds " + channel.pipeline().names()
          + " (Vert.x internals changed?)");
    }
    channel.pipeline().addBefore(VERTX_HANDLER, MARKER, new InputEndMarker());
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  /**
   * Proves at start-up, on one loopback connection, that {@link #allowHalfClose} works with this
   * Vert.x: without it every client's half-close would silently end its session instead.
   */
  public static Future<Void> check(Vertx vertx) {
    Promise<Void> checked = Promise.promise();
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      try {
        allowHalfClose(socket);
        checked.tryComplete();
      } catch (RuntimeException e) {
        checked.tryFail(new IllegalStateException("this Vert.x does not support Postern's"
            + " half-close: " + e.getMessage(), e));
      }
      socket.close();
    });
    NetClient client = vertx.createNetClient();
    String loopback = InetAddress.getLoopbackAddress().getHostAddress();
    return server.listen(0, loopback)
        .compose(s -> client.connect(s.actualPort(), loopback))
        .recover(e -> Future.failedFuture(new IllegalStateException("cannot check half-close"
            + " on a loopback connection (" + loopback + "): " + e.getMessage(), e)))
        // A loopback connection is accepted at once; a check that hangs must not hang the start.
        .compose(socket -> checked.future().timeout(CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .eventually(client::close)
        .eventually(server::close);
  }

  /**
   * Reads {@code socket}: its bytes go to {@code data}; the peer's end of input (once
   * {@link #allowHalfClose} is in place) to {@code ended}, in order after every byte before it.
   */
  public static void onInput(NetSocket socket, Handler<Buffer> data, Runnable ended) {
    // The marker is the one empty read: Netty never delivers an empty buffer otherwise.
    socket.handler(bytes -> {
      if (bytes.length() == 0) {
        ended.run();
      } else {
        data.handle(bytes);
      }
    });
  }

  /** Ends our sending side (close_notify first on TLS) while still reading. */
  public static void shutdownOutput(NetSocket socket) {
    Channel channel = channel(socket);
    SslHandler ssl = channel.pipeline().get(SslHandler.class);
    if (ssl != null) {
      ssl.closeOutbound().addListener(f -> shutdownTcpOutput(channel));
    } else {
      shutdownTcpOutput(channel);
    }
  }

  /**
   * Closes once what is queued for the peer has gone out. Input still held back by a pause is
   * read and dropped first: Vert.x frees a network buffer only when it hands it over, so closing
   * a paused socket would leak whatever it was holding.
   */
  public static void close(NetSocket socket) {
    discardInput(socket);
    socket.close();
  }

  /**
   * Ends a connection the way TCP means it, with a deadline: what is queued goes out, then a FIN
   * (after TLS close_notify) while input is still read and dropped, and the socket closes once
   * the peer has closed its side too. A peer that has not done so within {@code linger} is not
   * reading: the connection is reset ({@link #abort}). Closing at once instead would hand what
   * the kernel still holds for such a peer, up to its whole send buffer, to the kernel alone.
   */
  public static void closeLingering(NetSocket socket, Duration linger) {
    Channel channel = channel(socket);
    ScheduledFuture<?> giveUp = channel.eventLoop().schedule(() -> abort(socket),
        linger.toMillis(), TimeUnit.MILLISECONDS);
    channel.closeFuture().addListener(f -> giveUp.cancel(false));
    // Input is dropped (and so freed); its end (FIN or close_notify) is the peer's close. A
    // socket without half-close closes on the peer's FIN by itself.
    onInput(socket, data -> { }, socket::close);
    socket.resume();
    // An empty write completes once everything before it has gone out.
    socket.write(Buffer.buffer()).onComplete(ar -> {
      if (ar.failed() || inputEnded(channel)) {
        // The peer stopped sending before: it will not tell us more. Close now.
        socket.close();
      } else {
        shutdownOutput(socket);
      }
    });
  }

  /**
   * Gives up on a peer that does not read: resets the connection (TCP RST) at once, dropping
   * whatever is still queued for it, in Postern and in the kernel. A graceful close would leave
   * the kernel holding up to megabytes of unsent data behind a FIN the peer never takes, in
   * FIN-WAIT-1, for minutes after Postern has let go of the connection.
   */
  public static void abort(NetSocket socket) {
    discardInput(socket);
    Channel channel = channel(socket);
    if (!channel.isOpen()) {
      return;
    }
    try {
      // SO_LINGER 0: close() sends RST and frees the send buffer instead of draining it.
      channel.config().setOption(ChannelOption.SO_LINGER, 0);
    } catch (ChannelException closedMeanwhile) {
      // Closed since isOpen(): the close below is then a no-op.
    }
    // From the head of the pipeline: past Vert.x's handler, which would fold the close into a
    // graceful one waiting for a flush, and past TLS, whose close_notify would not be read.
    ChannelHandlerContext head = channel.pipeline().firstContext();
    if (head != null) {
      head.close();
    } else {
      channel.close();
    }
  }

  /** From now on, input is read and dropped (and so freed) instead of handled or held back. */
  public static void discardInput(NetSocket socket) {
    socket.handler(data -> { });
    socket.resume();
  }

  /** True once the peer's end of input (FIN, or TLS close_notify) has arrived. */
  private static boolean inputEnded(Channel channel) {
    InputEndMarker marker = channel.pipeline().get(InputEndMarker.class);
    return (marker != null && marker.ended)
        || (channel instanceof DuplexChannel duplex && duplex.isInputShutdown());
  }

  private static Channel channel(NetSocket socket) {
    return internal(socket).channelHandlerContext().channel();
  }

  private static NetSocketInternal internal(NetSocket socket) {
    if (!(socket instanceof NetSocketInternal internal)) {
      throw new IllegalStateException("not a Vert.x socket with a Netty channel: "
          + socket.getClass().getName() + " (Vert.x internals changed?)");
    }
    return internal;
  }

  private static void shutdownTcpOutput(Channel channel) {
    if (channel instanceof DuplexChannel duplex && channel.isActive()) {
      duplex.shutdownOutput();
    } else {
      channel.close();
    }
  }

  /** Sits right before Vert.x's handler; fires the marker once. */
  private static final class InputEndMarker extends ChannelInboundHandlerAdapter {
    private boolean ended;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      boolean inputEnd = event instanceof ChannelInputShutdownEvent
          || event instanceof SslCloseCompletionEvent close && close.isSuccess();
      if (!inputEnd) {
        super.userEventTriggered(ctx, event);
        return;
      }
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      if (ssl != null && !ssl.handshakeFuture().isDone()) {
        // A peer that stops sending mid-handshake can never finish it: close now rather than
        // hold the connection (and its slot) until the handshake timeout.
        ctx.close();
        return;
      }
      if (!ended) {
        ended = true;
        // Empty reads never happen otherwise: onInput reads this one as the end of input.
        ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
      }
    }
  }
}
