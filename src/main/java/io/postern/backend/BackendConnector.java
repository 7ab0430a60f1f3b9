package io.postern.backend;

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

  /** TCP connect, with the TLS handshake already done for implicit TLS. */
  public Future<NetSocket> connect(BackendTarget target) {
    ConnectOptions options = new ConnectOptions()
        .setHost(target.host())
        .setPort(target.port())
        .setTimeout((int) config.limits().backendConnectTimeout().toMillis());
    if (target.tls() == TlsMode.IMPLICIT) {
      // ConnectOptions.ssl defaults to false and would silently win over the client's options.
      options.setSsl(true).setSslOptions(target.sslOptions());
      if (target.sniName() != null) {
        options.setSniServerName(target.sniName());
      }
    }
    long started = System.nanoTime();
    return client.connect(options)
        .andThen(ar -> {
          if (ar.succeeded()) {
            connectTimes.accept(target.backend(), System.nanoTime() - started);
          }
        })
        .recover(e -> Future.failedFuture(new BackendLoginException(
        isTls(e) ? BackendLoginException.Kind.TLS : BackendLoginException.Kind.UNREACHABLE,
        (isTls(e) ? "TLS with " : "cannot connect to ") + target + ": " + describe(e))));
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
