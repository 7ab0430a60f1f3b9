package io.postern.backend;

import io.postern.net.Addresses;
import io.vertx.core.buffer.Buffer;
import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * The binary PROXY protocol v2 header (HAProxy's proxy-protocol.txt §2.2) that starts a backend
 * connection when the backend is configured with {@code client-ip: proxy-v2}: a {@code PROXY}
 * header naming the client and the address it connected to, or, for a connection on nobody's
 * behalf (a health check), a {@code LOCAL} header, which a listener that requires the header
 * (Dovecot's {@code haproxy = yes}) accepts as the proxy's own connection. No TLVs.
 */
public final class ProxyV2Header {

  /** The 12 bytes every v2 header starts with. */
  static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49,
      0x54, 0x0A};
  /** High nibble: protocol version 2; low nibble: the command. */
  static final int VERSION_2 = 0x20;
  static final int COMMAND_LOCAL = 0x00;
  static final int COMMAND_PROXY = 0x01;
  /** High nibble: address family; low nibble: transport. */
  static final int FAMILY_UNSPEC = 0x00;
  static final int FAMILY_INET = 0x10;
  static final int FAMILY_INET6 = 0x20;
  static final int TRANSPORT_STREAM = 0x01;
  /** Source and destination address, then source and destination port. */
  static final int TCP4_BLOCK = 4 + 4 + 2 + 2;
  static final int TCP6_BLOCK = 16 + 16 + 2 + 2;

  private ProxyV2Header() {}

  /** The header for a login on behalf of {@code origin}, or a LOCAL header when it is null. */
  public static Buffer of(ClientOrigin origin) {
    InetAddress client = origin == null ? null : Addresses.literal(origin.clientIp());
    if (client == null) {
      return local();
    }
    InetAddress connectedTo = origin.localIp() == null ? null : Addresses.literal(origin.localIp());
    boolean ipv4 = client instanceof Inet4Address
        && (connectedTo == null || connectedTo instanceof Inet4Address);
    byte[] source = ipv4 ? client.getAddress() : ipv6(client);
    byte[] destination = connectedTo == null ? new byte[source.length]
        : ipv4 ? connectedTo.getAddress() : ipv6(connectedTo);
    Buffer header = start(VERSION_2 | COMMAND_PROXY,
        (ipv4 ? FAMILY_INET : FAMILY_INET6) | TRANSPORT_STREAM, ipv4 ? TCP4_BLOCK : TCP6_BLOCK);
    return header.appendBytes(source).appendBytes(destination)
        .appendUnsignedShort(origin.clientPort() & 0xffff)
        .appendUnsignedShort(connectedTo == null ? 0 : origin.localPort() & 0xffff);
  }

  /** The proxy's own connection: the receiver uses the real addresses of the connection. */
  public static Buffer local() {
    return start(VERSION_2 | COMMAND_LOCAL, FAMILY_UNSPEC, 0);
  }

  private static Buffer start(int versionAndCommand, int familyAndTransport, int blockLength) {
    return Buffer.buffer(16 + blockLength).appendBytes(SIGNATURE)
        .appendUnsignedByte((short) versionAndCommand)
        .appendUnsignedByte((short) familyAndTransport)
        .appendUnsignedShort(blockLength);
  }

  /**
   * 16 bytes; an IPv4 address as IPv4-mapped IPv6, for a client and listener of different
   * families (the header has one family for both ends).
   */
  private static byte[] ipv6(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length == 16) {
      return bytes;
    }
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    System.arraycopy(bytes, 0, mapped, 12, 4);
    return mapped;
  }
}
