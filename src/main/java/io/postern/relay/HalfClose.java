package io.postern.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * TCP (and TLS) half-close, which Vert.x's public NetSocket API does not expose: a client that
 * sends {@code LOGOUT} and then shuts down its sending side must still get the backend's
 * {@code BYE} and tagged {@code OK}. Netty supports it; this reaches Netty through Vert.x's
 * internal socket interface.
 */
final class HalfClose {

  private HalfClose() {}

  /** Makes a peer's FIN arrive as "input ended" instead of closing the whole socket. */
  static void enable(NetSocket socket, Runnable inputEnded) {
    if (!(socket instanceof NetSocketInternal internal)) {
      return;
    }
    Channel channel = internal.channelHandlerContext().channel();
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    internal.eventHandler(event -> {
      if (event instanceof ChannelInputShutdownEvent
          || event instanceof SslCloseCompletionEvent close && close.isSuccess()) {
        inputEnded.run();
      }
    });
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
}
