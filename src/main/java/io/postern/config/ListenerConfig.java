package io.postern.config;

import java.util.List;

/**
 * One listening socket: its protocol, address and how clients secure it. {@code capabilities}
 * is what its clients are told the backends offer before login (nginx's
 * {@code pop3_capabilities}/{@code imap_capabilities}), upper case; null to follow what the
 * backends' health checks see. {@code clientCertificates}: whether its TLS asks clients for a
 * certificate, and what it proves.
 */
public record ListenerConfig(
    String name, Protocol protocol, String address, int port, TlsMode tls, boolean proxyProtocol,
    List<String> capabilities, ClientCertificateConfig clientCertificates) {

  public ListenerConfig {
    capabilities = capabilities == null ? null : List.copyOf(capabilities);
    clientCertificates = clientCertificates == null ? ClientCertificateConfig.NONE
        : clientCertificates;
  }

  /** A listener that asks for no client certificate. */
  public ListenerConfig(String name, Protocol protocol, String address, int port, TlsMode tls,
      boolean proxyProtocol, List<String> capabilities) {
    this(name, protocol, address, port, tls, proxyProtocol, capabilities,
        ClientCertificateConfig.NONE);
  }

  /** A listener whose capabilities before login follow the backends. */
  public ListenerConfig(String name, Protocol protocol, String address, int port, TlsMode tls,
      boolean proxyProtocol) {
    this(name, protocol, address, port, tls, proxyProtocol, null);
  }

  public String endpoint() {
    return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
  }
}
