package io.postern.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.ReferenceCountUtil;
import io.postern.metrics.ListenerMeters.Rejection;
import io.postern.net.Addresses;
import java.net.InetAddress;

/**
 * Between Vert.x's PROXY header decoder and its completion handler: the client the header names
 * meets its per-address limits here, before any TLS handshake, and a header for anything but a
 * TCP client (UDP, a UNIX socket) ends the connection. Removes itself after the header.
 */
final class ProxyHeaderCheck extends ChannelInboundHandlerAdapter {

  private final AcceptGate gate;
  private final Admission admission;
  ProxyHeaderCheck(AcceptGate gate, Admission admission) {
    this.gate = gate;
    this.admission = admission;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HAProxyMessage header)) {
      ctx.fireChannelRead(msg);
      return;
    }
    ctx.pipeline().remove(this);
    HAProxyProxiedProtocol protocol = header.proxiedProtocol();
    InetAddress client = protocol == HAProxyProxiedProtocol.TCP4
        || protocol == HAProxyProxiedProtocol.TCP6 ? Addresses.literal(header.sourceAddress())
        : null;
    // UNKNOWN (a LOCAL or health-check header) names no client: the trusted balancer is served.
    if (client == null && protocol != HAProxyProxiedProtocol.UNKNOWN) {
      // Counted as a refused header when the channel closes: the client was never known.
      ReferenceCountUtil.release(header);
      AcceptGate.close(ctx.channel());
      return;
    }
    Rejection why = gate.clientArrived(admission, client);
    if (why == null || gate.saysGoodbye(why)) {
      ctx.fireChannelRead(header);
    } else {
      ReferenceCountUtil.release(header);
      AcceptGate.close(ctx.channel());
    }
  }
}
