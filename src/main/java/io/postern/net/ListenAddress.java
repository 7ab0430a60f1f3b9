package io.postern.net;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;

/**
 * Where a listener really listens. Java opens every TCP socket as IPv6 when it can, and binds
 * such a socket to {@code 0.0.0.0} as if it were {@code ::}, so a listener configured for all
 * IPv4 addresses also took IPv6 connections. Bound to the IPv4-mapped wildcard
 * {@code ::ffff:0.0.0.0} instead, the same socket takes IPv4 connections only. {@code ::} stays
 * IPv4 and IPv6 (Java clears IPV6_V6ONLY); any other address stays itself.
 */
public final class ListenAddress {

  /** The IPv4 wildcard as an IPv6 socket must be bound to mean IPv4 only. */
  static final String IPV4_ONLY_WILDCARD = "::ffff:0.0.0.0";

  private static final boolean IPV6_SOCKETS = ipv6Sockets();

  private ListenAddress() {}

  /** The host to bind for the configured {@code address}. */
  public static String host(String address) {
    InetAddress literal = Addresses.literal(address);
    if (literal instanceof Inet4Address && literal.isAnyLocalAddress() && IPV6_SOCKETS) {
      return IPV4_ONLY_WILDCARD;
    }
    return address;
  }

  /**
   * True when Java's sockets are IPv6 ones (the usual case; not with
   * {@code -Djava.net.preferIPv4Stack=true} or a kernel without IPv6): then an IPv6 address can
   * be bound. Binding to port 0 and never listening costs nothing.
   */
  private static boolean ipv6Sockets() {
    try (SocketChannel probe = SocketChannel.open()) {
      probe.bind(new InetSocketAddress(InetAddress.getByName("::"), 0));
      return true;
    } catch (IOException | UnsupportedAddressTypeException e) {
      return false;
    }
  }
}
