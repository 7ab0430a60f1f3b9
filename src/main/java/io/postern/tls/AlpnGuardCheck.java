package io.postern.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.postern.config.ListenerConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Proves at start-up, on one loopback connection to a server with the configured engine and
 * certificates, that a ClientHello offering a foreign ALPN protocol gets exactly the
 * {@code no_application_protocol} alert from {@link AlpnCheckingSslHandler}. The check enters
 * through Vert.x's public engine SPI, but relies on Vert.x asking the factory's context for its
 * handlers: if an upgrade changed that, every listener would silently serve cross-protocol
 * clients again. Better not to start.
 */
public final class AlpnGuardCheck {

  /** The protocol the check offers: nothing a listener speaks. */
  static final String FOREIGN = "postern-alpn-check";
  private static final Buffer ALERT = Buffer.buffer(new byte[] {21, 3, 3, 0, 2, 2,
      AlpnCheckingSslHandler.NO_APPLICATION_PROTOCOL});
  private static final long TIMEOUT_SECONDS = 10;

  private AlpnGuardCheck() {}

  public static Future<Void> check(Vertx vertx, ServerTls tls) {
    String loopback = InetAddress.getLoopbackAddress().getHostAddress();
    ListenerConfig probe = new ListenerConfig("alpn-check", Protocol.IMAP, loopback, 0,
        TlsMode.IMPLICIT, false);
    Promise<Void> refused = Promise.promise();
    NetServer server = vertx.createNetServer(new NetServerOptions()
            .setSsl(true)
            .setKeyCertOptions(tls.options().getKeyCertOptions())
            .setSni(tls.options().isSni())
            .setSslEngineOptions(tls.engine(probe)))
        .connectHandler(socket -> {
          refused.tryFail("a client offering ALPN [" + FOREIGN + "] got a session");
          socket.close();
        })
        .exceptionHandler(e -> {
          if (AlpnRefusal.isCause(e)) {
            refused.tryComplete();
          } else {
            refused.tryFail(e);
          }
        });
    NetClient client = vertx.createNetClient();
    Promise<Buffer> answer = Promise.promise();
    Buffer received = Buffer.buffer();
    return server.listen(0, loopback)
        .compose(s -> client.connect(s.actualPort(), loopback))
        .compose(socket -> {
          socket.handler(received::appendBuffer);
          socket.closeHandler(v -> answer.tryComplete(received));
          return socket.write(Buffer.buffer(foreignClientHello()));
        })
        .compose(v -> Future.all(refused.future(), answer.future())
            .timeout(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .compose(v -> received.equals(ALERT) ? Future.<Void>succeededFuture()
            : Future.failedFuture("the answer was not the alert but " + received.length()
                + " bytes"))
        .recover(e -> Future.failedFuture(new IllegalStateException("this Vert.x does not let"
            + " Postern refuse TLS clients that offer another protocol by ALPN (Vert.x internals"
            + " changed?): " + e.getMessage(), e)))
        .eventually(client::close)
        .eventually(server::close);
  }

  /**
   * The smallest ClientHello that offers only {@link #FOREIGN} by ALPN: one TLS 1.3 suite, no
   * key share. The engine would refuse it, but the ALPN check answers first.
   */
  static byte[] foreignClientHello() {
    byte[] name = FOREIGN.getBytes(StandardCharsets.US_ASCII);
    ByteBuf body = Unpooled.buffer()
        .writeShort(0x0303)                    // legacy_version TLS 1.2
        .writeZero(32)                         // random
        .writeByte(0)                          // no session id
        .writeShort(2).writeShort(0x1301)      // TLS_AES_128_GCM_SHA256
        .writeByte(1).writeByte(0)             // null compression
        .writeShort(4 + 2 + 1 + name.length)   // extensions
        .writeShort(16).writeShort(2 + 1 + name.length)  // ALPN
        .writeShort(1 + name.length).writeByte(name.length).writeBytes(name);
    ByteBuf record = Unpooled.buffer()
        .writeByte(22).writeShort(0x0301).writeShort(4 + body.readableBytes())
        .writeByte(1).writeMedium(body.readableBytes()).writeBytes(body);
    return ByteBufUtil.getBytes(record);
  }
}
