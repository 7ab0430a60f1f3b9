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
 * TCP and TLS half-close, which Vert.x's public NetSocket API does not expose: a client that sends
 * {@code LOGOUT} and then shuts down its sending side must still get the backend's {@code BYE}
 * and tagged {@code OK}. Netty supports it; this reaches Netty through Vert.x's internal socket
 * interface.
 */
final class HalfClose {

  /** Name of the handler that turns "the peer stopped sending" into an in-band marker. */
  static final String MARKER = "postern-input-end";

  private HalfClose() {}

  /**
   * Makes a peer's FIN (or TLS close_notify) arrive as one empty buffer, in order after every
   * byte before it, instead of closing the socket. Vert.x queues data while a socket is paused
   * but hands events over at once, so an event would overtake data still waiting to be relayed.
   */
  static void enable(NetSocket socket) {
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

  /** Ends our sending side (close_notify first on TLS) while still reading. */
  static void shutdownOutput(NetSocket socket) {
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
      if (!ended) {
        ended = true;
        // Empty reads never happen otherwise: the relay reads this as "no more input".
        ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
      }
    }
  }
}
