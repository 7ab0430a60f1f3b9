package io.postern.listener;

import io.postern.auth.Authenticator;
import io.postern.auth.LoginGate;
import io.postern.auth.LoginThrottle;
import io.postern.auth.RedisFailures;
import io.postern.auth.SharedFailures;
import io.postern.backend.BackendPools;
import io.postern.config.AuthConfig;
import io.postern.config.LimitsConfig;
import io.postern.config.PosternConfig;
import io.postern.metrics.PosternMeters;
import io.postern.session.HandshakeLimit;
import io.postern.session.LiveSessions;
import io.postern.session.ShutdownSignal;
import io.postern.tls.CurrentTls;
import io.postern.tls.ServerTls;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.ClientSSLOptions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every listener instance shares across event loops: configuration, TLS material, the
 * backends' servers and their health, the auth source, connection counts (with
 * {@code store: redis}, also across instances) and the shutdown flag. All of it is immutable or
 * thread-safe.
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
    DescriptorBudget descriptors,
    LiveSessions sessions,
    ClusterConnections clusterConnections) {

  /** {@code config}'s limits must have max-connections fitted ({@link DescriptorBudget#fit}). */
  public SharedServices(Vertx vertx, PosternConfig config, ServerTls tls,
      Map<String, ClientSSLOptions> backendTls, Authenticator authenticator,
      PosternMeters meters) {
    this(vertx, config, tls == null ? null : new CurrentTls(tls),
        new BackendPools(config.backends().values(), backendTls), authenticator,
        new ConnectionLimits(config.limits().maxConnections(),
            config.limits().maxConnectionsPerIp()), meters,
        new LoginGate(vertx, new LoginThrottle(config.auth().throttle(), config.limits(),
            sharedFailures(vertx, config, meters, null))));
  }

  private SharedServices(Vertx vertx, PosternConfig config, CurrentTls tls, BackendPools backends,
      Authenticator authenticator, ConnectionLimits limits, PosternMeters meters,
      LoginGate gate) {
    this(config, tls, backends, authenticator, limits, new ShutdownSignal(),
        new ConcurrentHashMap<>(), meters, gate,
        new AddressRates(config.limits().connectionRatePerIp()),
        new AddressRates(config.limits().handshakeRatePerIp()),
        new DescriptorBudget(DescriptorBudget.Usage.now(), config.limits().descriptorReserve(),
            limits::open), new LiveSessions(vertx),
        ClusterConnections.over(vertx, gate.throttle().shared()));
  }

  /**
   * The services for a reloaded configuration: {@code config}, {@code tls}, {@code backends} and
   * {@code authenticator} are the new ones (or these, where unchanged); what counts across
   * sessions lives on, so that sessions already open keep their places: the connection counts
   * (with the new maximums), the shutdown flag, the bound ports, the meters, the address rates,
   * the descriptor budget, and the login penalties unless the throttle's settings changed.
   */
  public SharedServices next(Vertx vertx, PosternConfig next, CurrentTls nextTls,
      BackendPools nextBackends, Authenticator nextAuthenticator) {
    LimitsConfig l = next.limits();
    limits.resize(l.maxConnections(), l.maxConnectionsPerIp());
    connectionRates.perMinute(l.connectionRatePerIp());
    handshakeRates.perMinute(l.handshakeRatePerIp());
    descriptors.reserve(l.descriptorReserve());
    boolean samePenalties = next.auth().throttle().equals(config.auth().throttle())
        && l.trustedNetworks().equals(config.limits().trustedNetworks());
    LoginGate nextGate = samePenalties ? gate
        : new LoginGate(vertx, new LoginThrottle(next.auth().throttle(), l,
            sharedFailures(vertx, next, meters, gate.throttle())));
    ClusterConnections nextCounts = clusterConnections;
    if (nextGate.throttle().shared() != gate.throttle().shared()) {
      // Another store: what this instance counted in the old one vanishes with its heartbeat.
      if (clusterConnections != null) {
        clusterConnections.close();
      }
      nextCounts = ClusterConnections.over(vertx, nextGate.throttle().shared());
    }
    return new SharedServices(next, nextTls, nextBackends, nextAuthenticator, limits, shutdown,
        boundPorts, meters, nextGate, connectionRates, handshakeRates, descriptors, sessions,
        nextCounts);
  }

  /**
   * The store of failure counts shared by every instance for {@code config}'s throttle, or null
   * ({@code store: memory}): {@code previous}'s when its settings are the same, else a new one,
   * and {@code previous}'s is closed.
   */
  private static SharedFailures sharedFailures(Vertx vertx, PosternConfig config,
      PosternMeters meters, LoginThrottle previous) {
    AuthConfig.Throttle throttle = config.auth().throttle();
    SharedFailures old = previous == null ? null : previous.shared();
    if (old != null && previous.config().store().equals(throttle.store())
        && previous.config().forgetAfter().equals(throttle.forgetAfter())) {
      return old;
    }
    if (old != null) {
      old.close();
    }
    SharedFailures store = !throttle.store().shared() ? null : new RedisFailures(vertx,
        throttle.store(), throttle.forgetAfter(), meters::throttleStoreError);
    meters.throttleStoreUp(store == null ? null : store::up);
    return store;
  }

  /** Closes the shared throttle store, if there is one (at shutdown). */
  public Future<Void> closeThrottleStore() {
    if (clusterConnections != null) {
      clusterConnections.close();
    }
    SharedFailures store = gate.throttle().shared();
    return store == null ? Future.succeededFuture() : store.close();
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
