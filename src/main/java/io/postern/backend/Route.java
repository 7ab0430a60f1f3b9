package io.postern.backend;

import io.postern.config.TlsMode;

/**
 * Where an auth source sends a user: a configured backend, optionally with another host, port or
 * TLS mode (null means "as the backend is configured").
 */
public record Route(String backend, String host, Integer port, TlsMode tls) {

  public static Route to(String backend) {
    return new Route(backend, null, null, null);
  }

  public Route withHost(String otherHost) {
    return new Route(backend, otherHost, port, tls);
  }
}
