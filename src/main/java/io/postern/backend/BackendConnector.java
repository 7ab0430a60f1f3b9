package io.postern.backend;

import io.postern.config.BackendConfig;
import io.postern.config.LimitsConfig;
import io.postern.config.PosternConfig;
import io.postern.config.TlsMode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import java.util.function.ObjLongConsumer;

/**
 * Opens connections to backends. One per listener instance (so one {@link NetClient} per event
 * loop, never one per session).
 */
public final class BackendConnector {

  private final Vertx vertx;
  private final PosternConfig config;
  private final BackendPools pools;
  private final NetClient client;
  private final ObjLongConsumer<String> connectTimes;

  public BackendConnector(Vertx vertx, PosternConfig config, BackendPools pools,
      ObjLongConsumer<String> connectTimes) {
    this.vertx = vertx;
    this.config = config;
    this.connectTimes = connectTimes;
    this.pools = pools;
    LimitsConfig limits = config.limits();
    this.client = vertx.createNetClient(new NetClientOptions()
        .setConnectTimeout((int) limits.backendConnectTimeout().toMillis())
        .setTcpKeepAlive(true)
        .setTcpNoDelay(true));
  }

  private BackendConnector(BackendConnector same, PosternConfig config, BackendPools pools) {
    this.vertx = same.vertx;
    this.config = config;
    this.pools = pools;
    this.client = same.client;
    this.connectTimes = same.connectTimes;
  }

  /**
   * The same client for a reloaded configuration's backends and limits (each connect sets its
   * own timeout). The client is shared: closing it (either one) closes the relayed backend
   * connections of sessions that began before the reload too, so only the listener's end does.
   */
  public BackendConnector withConfig(PosternConfig next, BackendPools nextPools) {
    return new BackendConnector(this, next, nextPools);
  }

  public Vertx vertx() {
    return vertx;
  }

  public LimitsConfig limits() {
    return config.limits();
  }

  /** Every backend's servers and their state, shared by all event loops. */
  public BackendPools pools() {
    return pools;
  }

  /**
   * TCP connect, with the TLS handshake already done for implicit TLS, and for a
   * {@code client-ip: proxy-v2} backend the PROXY v2 header written before anything else.
   */
  public Future<NetSocket> connect(BackendTarget target) {
    ConnectOptions options = new ConnectOptions()
        .setHost(target.host())
        .setPort(target.port())
        .setTimeout((int) config.limits().backendConnectTimeout().toMillis());
    boolean proxyHeader = target.clientIp() == BackendConfig.ClientIp.PROXY_V2;
    if (target.tls() == TlsMode.IMPLICIT && !proxyHeader) {
      // ConnectOptions.ssl defaults to false and would silently win over the client's options.
      options.setSsl(true).setSslOptions(target.sslOptions());
      if (target.sniName() != null) {
        options.setSniServerName(target.sniName());
      }
    }
    long started = System.nanoTime();
    Future<NetSocket> connected = client.connect(options);
    if (proxyHeader) {
      connected = connected.compose(socket -> withProxyHeader(socket, target));
    }
    return connected
        .andThen(ar -> {
          if (ar.succeeded()) {
            connectTimes.accept(target.backend(), System.nanoTime() - started);
          }
        })
        .recover(e -> Future.failedFuture(new BackendLoginException(
        isTls(e) ? BackendLoginException.Kind.TLS : BackendLoginException.Kind.UNREACHABLE,
        (isTls(e) ? "TLS with " : "cannot connect to ") + target + ": " + describe(e))));
  }

  /**
   * Writes the header in plaintext, as the first bytes of the connection; for implicit TLS the
   * handshake follows it (a listener with PROXY support reads the header before its TLS), with
   * the same certificate checks and SNI as a direct TLS connect.
   */
  private Future<NetSocket> withProxyHeader(NetSocket socket, BackendTarget target) {
    // Written (flushed) before the upgrade starts, so no TLS record can overtake it.
    Future<Void> sent = socket.write(ProxyV2Header.of(target.origin()));
    if (target.tls() == TlsMode.IMPLICIT) {
      sent = sent.compose(v -> socket.upgradeToSsl(target.sslOptions(), target.sniName(), null));
    }
    return sent.map(socket).onFailure(e -> socket.close());
  }

  public Future<Void> close() {
    return client.close();
  }

  private static boolean isTls(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException
          || t instanceof java.security.cert.CertificateException) {
        return true;
      }
    }
    return false;
  }

  static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : " " + BackendLoginException.excerpt(m));
  }
}
