package io.postern.relay;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * How sockets end, where Vert.x's public NetSocket API has no word for it: half-close (a client
 * that sends {@code LOGOUT} and then shuts down its sending side must still get the backend's
 * {@code BYE} and tagged {@code OK}), and an abort for a peer that stops reading, whose graceful
 * close would wait forever for the queued data to drain. Netty has both; this reaches Netty
 * through Vert.x's internal socket interface.
 */
public final class SocketEnds {

  /** Name of the handler that turns "the peer stopped sending" into an in-band marker. */
  static final String MARKER = "postern-input-end";

  private SocketEnds() {}

  /**
   * Makes a peer's FIN (or TLS close_notify) arrive as one empty buffer (see {@link #isInputEnd}), in order after every
   * byte before it, instead of closing the socket. Vert.x queues data while a socket is paused
   * but hands events over at once, so an event would overtake data still waiting to be relayed.
   */
  public static void allowHalfClose(NetSocket socket) {
    if (!(socket instanceof NetSocketInternal internal)) {
      return;
    }
    Channel channel = internal.channelHandlerContext().channel();
    if (channel.pipeline().get(MARKER) != null || channel.pipeline().get("handler") == null) {
      return;
    }
    channel.pipeline().addBefore("handler", MARKER, new InputEndMarker());
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
  }

  /** True for the marker {@link #allowHalfClose} delivers when the peer stops sending. */
  public static boolean isInputEnd(io.vertx.core.buffer.Buffer data) {
    return data.length() == 0;
  }

  /** Ends our sending side (close_notify first on TLS) while still reading. */
  public static void shutdownOutput(NetSocket socket) {
    if (!(socket instanceof NetSocketInternal internal)) {
      socket.close();
      return;
    }
    Channel channel = internal.channelHandlerContext().channel();
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

  /** Closes at once, dropping whatever is still queued for a peer that does not read it. */
  public static void abort(NetSocket socket) {
    discardInput(socket);
    if (socket instanceof NetSocketInternal internal) {
      // From Vert.x's own handler context, so the close starts below that handler: Vert.x would
      // otherwise fold it into the graceful close already waiting for the flush.
      internal.channelHandlerContext().close();
    } else {
      socket.close();
    }
  }

  /** From now on, input is read and dropped (and so freed) instead of handled or held back. */
  public static void discardInput(NetSocket socket) {
    socket.handler(data -> { });
    socket.resume();
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
        // Empty reads never happen otherwise: the relay reads this as "no more input".
        ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
      }
    }
  }
}
