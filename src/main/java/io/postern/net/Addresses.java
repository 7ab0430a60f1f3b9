package io.postern.net;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Client addresses as Postern reads, writes and groups them. */
public final class Addresses {

  private Addresses() {}

  /**
   * The address in an IP literal such as Vert.x reports for a socket, or null if it is not one.
   * Never a DNS lookup: the text is read by Netty's parser, because InetAddress.getByName asks
   * the resolver for near-misses such as "g::1" or "1.2.3.4.5" (found by AddressesFuzzTest) and
   * reads "6" as 0.0.0.6. A zone ("%eth0") is dropped: nothing Postern does with an address
   * uses it.
   */
  public static InetAddress literal(String text) {
    byte[] bytes = text == null ? null : NetUtil.createByteArrayFromIpAddressString(text);
    if (bytes == null) {
      return null;
    }
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("Netty read " + text + " as " + bytes.length + " bytes", e);
    }
  }

  /** An IPv4 address itself; an IPv6 address by its /64, which one subscriber usually holds. */
  public static String subscriberKey(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length == 4) {
      return address.getHostAddress();
    }
    StringBuilder prefix = new StringBuilder("v6:");
    for (int i = 0; i < 8; i++) {
      prefix.append(Character.forDigit((bytes[i] >> 4) & 0xf, 16))
          .append(Character.forDigit(bytes[i] & 0xf, 16));
    }
    return prefix.toString();
  }

  /**
   * An address as people and nginx write it: IPv4 dotted, IPv6 in RFC 5952's short form
   * ({@code ::1}, {@code 2001:db8::7}), never Java's {@code 0:0:0:0:0:0:0:1}.
   */
  public static String text(InetAddress address) {
    byte[] b = address.getAddress();
    if (b.length == 4) {
      return address.getHostAddress();
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
    }
    // The longest run of two or more zero groups (the first, on a tie) becomes "::".
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }
}
