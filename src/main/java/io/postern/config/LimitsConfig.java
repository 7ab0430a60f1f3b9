package io.postern.config;

import java.time.Duration;
import java.util.List;

/** Every timeout and size limit of a session. */
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
    Duration shutdownGrace) {

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
}
