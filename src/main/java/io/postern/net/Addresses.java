package io.postern.net;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Client addresses as Postern reads, writes and groups them. */
public final class Addresses {

  private Addresses() {}

  /**
   * The address in an IP literal such as Vert.x reports for a socket, or null if it is not one.
   * Never a DNS lookup: only literals are passed to the resolver.
   */
  public static InetAddress literal(String text) {
    // With a colon it can only be read as IPv6; digits and dots only as IPv4: never a name.
    boolean literal = text != null && !text.isEmpty() && (text.indexOf(':') >= 0
        || text.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.'));
    if (!literal) {
      return null;
    }
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      return null;
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
      prefix.append(String.format("%02x", bytes[i]));
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
