package io.postern.config;

import java.time.Duration;
import java.util.List;

/**
 * Every timeout and size limit of a session, and the limits on connections: how many at once
 * (in total and per address), how fast per address, and the open files kept in reserve.
 * {@code maxConnections} is {@link #AUTO} until start-up has fitted it to the open-file limit.
 * {@code drainWindow} is how far apart in time logged-in sessions are ended when Postern (or a
 * backend server) is drained, so that their clients do not all reconnect in the same second
 * (Dovecot's {@code login_proxy_max_disconnect_delay}); it is never longer than the shutdown grace.
 */
public record LimitsConfig(
    Duration preauthTimeout,
    Duration idleTimeout,
    Duration handshakeTimeout,
    Duration backendConnectTimeout,
    Duration backendLoginTimeout,
    int maxLine,
    int maxLiteral,
    int maxBadCommands,
    int maxConnections,
    int maxConnectionsPerIp,
    List<Cidr> trustedNetworks,
    Duration shutdownGrace,
    int connectionRatePerIp,
    int handshakeRatePerIp,
    int descriptorReserve,
    Duration drainWindow) {

  /** {@code max-connections: auto}: the default, or fewer if the open-file limit says so. */
  public static final int AUTO = 0;
  /** What {@code auto} means when the open-file limit allows it. */
  public static final int DEFAULT_MAX_CONNECTIONS = 50_000;

  public LimitsConfig {
    trustedNetworks = List.copyOf(trustedNetworks);
  }

  public boolean isTrusted(java.net.InetAddress address) {
    for (Cidr cidr : trustedNetworks) {
      if (cidr.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** The same limits with {@code max-connections} set to {@code n}. */
  public LimitsConfig withMaxConnections(int n) {
    return new LimitsConfig(preauthTimeout, idleTimeout, handshakeTimeout, backendConnectTimeout,
        backendLoginTimeout, maxLine, maxLiteral, maxBadCommands, n, maxConnectionsPerIp,
        trustedNetworks, shutdownGrace, connectionRatePerIp, handshakeRatePerIp,
        descriptorReserve, drainWindow);
  }
}
