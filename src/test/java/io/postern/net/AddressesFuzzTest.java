package io.postern.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.util.NetUtil;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Map;

/**
 * Fuzzes how Postern reads and writes client addresses. {@link Addresses#literal} must never ask
 * the resolver, whatever text it gets (JDK 17's InetAddress does for "g::1" or "1.2.3.4.5": on
 * the event loop, that is a blocking DNS query); it reads the standard literals only, and
 * whatever Vert.x or Postern itself writes for an address reads back as that address.
 * {@link Addresses#text} must be RFC 5952's form (Netty's writer is the reference), and
 * {@link Addresses#subscriberKey} must group exactly one IPv4 address or one IPv6 /64.
 *
 * <p>Needs {@code --add-opens java.base/java.net=ALL-UNNAMED} to watch the resolver's cache.
 */
class AddressesFuzzTest {

  private static final Map<?, ?> RESOLVER_CACHE = resolverCache();

  @FuzzTest
  void addressesReadBackAsWrittenAndNeverAskTheResolver(FuzzedDataProvider data)
      throws UnknownHostException {
    InetAddress a = address(data);
    InetAddress b = data.consumeBoolean() ? address(data) : sameSlash64(a, data);
    String text = data.consumeRemainingAsString();

    int cached = RESOLVER_CACHE.size();
    InetAddress read = Addresses.literal(text);
    assertTrue(RESOLVER_CACHE.size() <= cached, "the resolver was asked for " + text);
    if (read != null) {
      assertTrue(NetUtil.isValidIpV4Address(text) || NetUtil.isValidIpV6Address(text),
          "not an IP literal, yet read: " + text);
      assertArrayEquals(InetAddress.getByAddress(
          NetUtil.createByteArrayFromIpAddressString(text)).getAddress(), read.getAddress());
    }

    assertEquals(a, Addresses.literal(a.getHostAddress()), "as Vert.x writes it");
    assertEquals(a, Addresses.literal(Addresses.text(a)), "as Postern writes it");
    assertEquals(NetUtil.toAddressString(a), Addresses.text(a), "RFC 5952");

    boolean sameSubscriber = a.getAddress().length == 4
        ? Arrays.equals(a.getAddress(), b.getAddress())
        : b.getAddress().length == 16
            && Arrays.equals(a.getAddress(), 0, 8, b.getAddress(), 0, 8);
    assertEquals(sameSubscriber, Addresses.subscriberKey(a).equals(Addresses.subscriberKey(b)),
        a + " and " + b);
  }

  /** IPv4 or IPv6 (IPv4-mapped IPv6 comes out as IPv4, as Java reads it). */
  private static InetAddress address(FuzzedDataProvider data) throws UnknownHostException {
    int length = data.consumeBoolean() ? 4 : 16;
    return InetAddress.getByAddress(Arrays.copyOf(data.consumeBytes(length), length));
  }

  /** An address sharing the first 64 bits with {@code a} (for IPv4: a itself). */
  private static InetAddress sameSlash64(InetAddress a, FuzzedDataProvider data)
      throws UnknownHostException {
    byte[] bytes = a.getAddress();
    if (bytes.length == 16) {
      byte[] low = Arrays.copyOf(data.consumeBytes(8), 8);
      System.arraycopy(low, 0, bytes, 8, 8);
    }
    return InetAddress.getByAddress(bytes);
  }

  private static Map<?, ?> resolverCache() {
    try {
      Field cache = InetAddress.class.getDeclaredField("cache");
      cache.setAccessible(true);
      return (Map<?, ?>) cache.get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "run with --add-opens java.base/java.net=ALL-UNNAMED (the fuzz execution does)", e);
    }
  }
}
