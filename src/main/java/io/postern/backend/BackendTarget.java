package io.postern.backend;

import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.TlsMode;
import io.vertx.core.net.ClientSSLOptions;

/**
 * A resolved place to log in: one server of a backend, with host, port and TLS for one protocol,
 * and how that backend is told the client's address. {@code server} names it in metrics and
 * logs. For one login, {@link #forLogin} adds where the client came from and the deadline that
 * every server tried for that login shares.
 */
public record BackendTarget(String backend, String server, String host, int port, TlsMode tls,
    ClientSSLOptions sslOptions, ClientIp clientIp, ClientOrigin origin, long deadlineNanos) {

  /** No login attached: a health check, or a target not yet used. */
  public BackendTarget(String backend, String server, String host, int port, TlsMode tls,
      ClientSSLOptions sslOptions, ClientIp clientIp) {
    this(backend, server, host, port, tls, sslOptions, clientIp, null, 0);
  }

  /** This target for one login from {@code from}, to finish by {@code deadline} (nanoTime). */
  public BackendTarget forLogin(ClientOrigin from, long deadline) {
    return new BackendTarget(backend, server, host, port, tls, sslOptions, clientIp, from,
        deadline);
  }

  /** The server name for SNI, or null when the host is an IP literal (SNI carries names only). */
  public String sniName() {
    boolean ipv6 = host.indexOf(':') >= 0;
    boolean ipv4 = host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    return ipv6 || ipv4 ? null : host;
  }

  @Override
  public String toString() {
    return backend + (server.equals(host) ? "" : "/" + server) + "(" + host + ":" + port + ", tls=" + tls.id() + ")";
  }
}
