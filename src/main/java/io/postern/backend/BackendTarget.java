package io.postern.backend;

import io.postern.config.TlsMode;
import io.vertx.core.net.ClientSSLOptions;

/** A resolved place to log in: host, port and TLS for one protocol of one backend. */
public record BackendTarget(String backend, String host, int port, TlsMode tls,
    ClientSSLOptions sslOptions) {

  /** The server name for SNI, or null when the host is an IP literal (SNI carries names only). */
  public String sniName() {
    boolean ipv6 = host.indexOf(':') >= 0;
    boolean ipv4 = host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    return ipv6 || ipv4 ? null : host;
  }

  @Override
  public String toString() {
    return backend + "(" + host + ":" + port + ", tls=" + tls.id() + ")";
  }
}
