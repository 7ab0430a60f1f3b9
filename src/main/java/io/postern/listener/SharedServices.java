package io.postern.listener;

import io.postern.auth.Authenticator;
import io.postern.auth.LoginGate;
import io.postern.auth.LoginThrottle;
import io.postern.backend.BackendPools;
import io.postern.config.PosternConfig;
import io.postern.metrics.PosternMeters;
import io.postern.session.HandshakeLimit;
import io.postern.session.ShutdownSignal;
import io.postern.tls.CurrentTls;
import io.postern.tls.ServerTls;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every listener instance shares across event loops: configuration, TLS material, the
 * backends' servers and their health, the auth source, connection counts and the shutdown
 * flag. All of it is immutable or thread-safe.
 */
public record SharedServices(
    PosternConfig config,
    CurrentTls tls,
    BackendPools backends,
    Authenticator authenticator,
    ConnectionLimits limits,
    ShutdownSignal shutdown,
    Map<String, Integer> boundPorts,
    PosternMeters meters,
    LoginGate gate,
    AddressRates connectionRates,
    AddressRates handshakeRates,
    DescriptorBudget descriptors) {

  /** {@code config}'s limits must have max-connections fitted ({@link DescriptorBudget#fit}). */
  public SharedServices(Vertx vertx, PosternConfig config, ServerTls tls,
      Map<String, ClientSSLOptions> backendTls, Authenticator authenticator,
      PosternMeters meters) {
    this(config, tls == null ? null : new CurrentTls(tls), new BackendPools(config.backends().values(), backendTls), authenticator,
        new ConnectionLimits(config.limits().maxConnections(),
            config.limits().maxConnectionsPerIp()), meters,
        new LoginGate(vertx, new LoginThrottle(config.auth().throttle(), config.limits())));
  }

  private SharedServices(PosternConfig config, CurrentTls tls, BackendPools backends,
      Authenticator authenticator, ConnectionLimits limits, PosternMeters meters,
      LoginGate gate) {
    this(config, tls, backends, authenticator, limits, new ShutdownSignal(),
        new ConcurrentHashMap<>(), meters, gate,
        new AddressRates(config.limits().connectionRatePerIp()),
        new AddressRates(config.limits().handshakeRatePerIp()),
        new DescriptorBudget(DescriptorBudget.Usage.now(), config.limits().descriptorReserve(),
            limits::open));
  }

  /** STARTTLS's share of {@code limits.handshake-rate-per-ip}; trusted networks are exempt. */
  public HandshakeLimit handshakeLimit() {
    return client -> config.limits().isTrusted(client) || handshakeRates.tryTake(client);
  }

  /** Starts watching the descriptors in use; {@link #stopped} ends it. */
  public void started() {
    descriptors.start();
  }

  public void stopped() {
    descriptors.stop();
  }

  void bound(String listener, int port) {
    boundPorts.put(listener, port);
  }
}
