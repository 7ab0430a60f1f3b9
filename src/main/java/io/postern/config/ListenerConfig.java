package io.postern.config;

/** One listening socket: its protocol, address and how clients secure it. */
public record ListenerConfig(
    String name, Protocol protocol, String address, int port, TlsMode tls, boolean proxyProtocol) {

  public String endpoint() {
    return (address.contains(":") ? "[" + address + "]" : address) + ":" + port;
  }
}
