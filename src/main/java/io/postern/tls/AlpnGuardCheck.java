package io.postern.tls;

import io.postern.config.ListenerConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Proves at start-up, on one loopback handshake with the configured engine and certificate, that
 * a client offering a foreign ALPN protocol is refused by {@link AlpnCheckingSslHandler}. The
 * check enters through Vert.x's engine SPI but relies on Vert.x asking the factory's context for
 * its handlers; if a Vert.x upgrade changed that, every listener would silently serve ALPACA
 * clients again. Better not to start.
 */
public final class AlpnGuardCheck {

  /** The protocol the check's client offers: nothing a listener speaks. */
  static final String FOREIGN = "postern-alpn-check";
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
    NetClient client = vertx.createNetClient(new NetClientOptions()
        .setSsl(true)
        .setTrustAll(true)
        .setHostnameVerificationAlgorithm("")
        .setUseAlpn(true)
        .setApplicationLayerProtocols(List.of(FOREIGN)));
    return server.listen(0, loopback)
        .compose(s -> client.connect(s.actualPort(), loopback)
            .andThen(ar -> {
              if (ar.succeeded()) {
                ar.result().close();
              }
            })
            .transform(ar -> refused.future().timeout(TIMEOUT_SECONDS, TimeUnit.SECONDS)))
        .recover(e -> Future.failedFuture(new IllegalStateException("this Vert.x does not let"
            + " Postern refuse TLS clients that offer another protocol by ALPN (Vert.x internals"
            + " changed?): " + e.getMessage(), e)))
        .eventually(client::close)
        .eventually(server::close);
  }
}
