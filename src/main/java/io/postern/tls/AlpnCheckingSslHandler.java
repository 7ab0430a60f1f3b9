package io.postern.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.List;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's TLS handler with the listener's ALPN policy in front of the engine: it reads the
 * client's first ClientHello before the engine does and, if the client offers ALPN protocols
 * without the listener's, answers with a fatal {@code no_application_protocol} alert (RFC 7301
 * §3.2) and closes. Both engines get the same check, on every path that builds a server TLS
 * handler (implicit TLS, STARTTLS, after SNI): OpenSSL's binding in Netty cannot refuse an
 * unmatched offer itself, and Vert.x asks it not to.
 */
final class AlpnCheckingSslHandler extends SslHandler {

  private static final Logger LOG = LoggerFactory.getLogger(AlpnCheckingSslHandler.class);

  private static final byte ALERT = 21;
  private static final byte FATAL = 2;
  /** RFC 7301 §3.2. */
  static final byte NO_APPLICATION_PROTOCOL = 120;
  /** RFC 8446 §6. */
  static final byte HANDSHAKE_FAILURE = 40;

  private final AlpnPolicy policy;
  /** Reads the ClientHello until the verdict; null after it. */
  private ClientHelloReader reader = new ClientHelloReader();
  private boolean refused;

  AlpnCheckingSslHandler(SSLEngine engine, boolean startTls, Executor executor,
      AlpnPolicy policy) {
    super(engine, startTls, executor);
    this.policy = policy;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws SSLException {
    if (refused) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (reader != null) {
      ClientHelloReader.Result hello = reader.read(in);
      switch (hello.kind()) {
        case NEED_MORE -> {
          return; // every byte stays in the input until the verdict
        }
        case TOO_LARGE -> {
          refuse(ctx, in, HANDSHAKE_FAILURE, new SSLHandshakeException("ClientHello larger than "
              + ClientHelloReader.MAX_CLIENT_HELLO + " bytes"));
          return;
        }
        case ALPN -> {
          if (!policy.accepts(hello.protocols())) {
            String offered = AlpnPolicy.describe(hello.protocols());
            LOG.debug("listener {}: TLS client {} offered ALPN {} without {}: refused with"
                + " no_application_protocol", policy.listener(), client(ctx), offered,
                policy.protocol());
            refuse(ctx, in, NO_APPLICATION_PROTOCOL, new AlpnRefusal("no_application_protocol:"
                + " the client offered ALPN " + offered + ", not " + policy.protocol()));
            return;
          }
        }
        default -> { }
      }
      reader = null;
    }
    super.decode(ctx, in, out);
  }

  /**
   * Sends the alert in plaintext (no keys exist yet), then fails the handshake with {@code cause}
   * as Vert.x expects to hear of it, and closes; the engine never gets a byte.
   */
  private void refuse(ChannelHandlerContext ctx, ByteBuf in, byte description,
      SSLHandshakeException cause) {
    refused = true;
    reader = null;
    in.skipBytes(in.readableBytes());
    // TLS 1.2 record version: what TLS 1.3 servers also send before the ServerHello.
    ByteBuf alert = Unpooled.wrappedBuffer(new byte[] {ALERT, 3, 3, 0, 2, FATAL, description});
    // From this handler's context the alert goes straight to the socket; only once it is out is
    // Vert.x told (it may close at once), so the close cannot overtake it.
    ctx.writeAndFlush(alert).addListener(written -> {
      // Without this, the close would fail the handshake as "closed by the peer".
      Future<?> handshake = handshakeFuture();
      if (handshake instanceof Promise<?> promise) {
        promise.tryFailure(cause);
      }
      ctx.fireUserEventTriggered(new SslHandshakeCompletionEvent(cause));
      ctx.close();
    });
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
    if (refused) {
      // No close_notify after the fatal alert: the engine never started.
      ctx.close(promise);
    } else {
      super.close(ctx, promise);
    }
  }

  /** The client's address: the one a PROXY header named (Vert.x keeps it), else the peer's. */
  private static Object client(ChannelHandlerContext ctx) {
    SocketAddress proxied = ctx.channel().attr(ConnectionBase.REMOTE_ADDRESS_OVERRIDE).get();
    return proxied != null ? proxied : ctx.channel().remoteAddress();
  }
}
