package io.postern.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.NetUtil;
import io.postern.net.Addresses;
import io.postern.testing.Pieces;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Fuzzes the PROXY header path of a {@code proxy-protocol} listener ({@link ProxyPipeline}: the
 * pipeline Vert.x builds, then what {@link ListenerVerticle} makes of it) with text (v1) and
 * binary (v2) headers, well-formed or not, and raw bytes. Anyone who can connect can send a header
 * (the trusted-peer check comes after it), so for every input: no buffer is leaked; a connection
 * is closed by the PROXY timeout at the latest; a refused header is counted as a PROXY refusal; an
 * accepted one gives the header's source as the client address, or none for a UNIX socket or
 * UNKNOWN (the listener then closes or uses the real peer), and the session gets exactly the bytes
 * after the header; and all of this is the same however the bytes arrive.
 */
class ProxyHeaderFuzzTest {

  private static final HexFormat HEX = HexFormat.of();
  static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49,
      0x54, 0x0A};
  private static final String[] V1_PROTOCOLS = {"TCP4", "TCP6", "UNKNOWN", "UDP4", "tcp4", ""};
  private static final String[] V1_ADDRESSES = {"192.0.2.7", "10.0.0.1", "::1", "2001:db8::7",
      "::ffff:192.0.2.7", "[::1]", "fe80::1%eth0", "256.1.1.1", "1.2.3", "", "localhost"};
  private static final String[] V1_PORTS = {"143", "0", "65535", "65536", "-1", "01", "993"};

  @FuzzTest
  void refusalsAreCountedAcceptedHeadersGiveTheClientAndNothingLeaks(FuzzedDataProvider data) {
    int[] cuts = Pieces.cutPoints(data, 6);
    byte[] input = switch (data.consumeInt(0, 2)) {
      case 0 -> v1(data);
      case 1 -> v2(data);
      default -> data.consumeRemainingAsBytes();
    };

    try {
      ProxyPipeline.Outcome whole = ProxyPipeline.feed(Pieces.whole(input));
      check(whole, input);
      assertEquals(whole, ProxyPipeline.feed(Pieces.cut(input, cuts)), "in pieces");
      assertEquals(whole, ProxyPipeline.feed(Pieces.bytewise(input)), "byte by byte");
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(e + "\n  for " + HEX.formatHex(input) + " cut at "
          + Arrays.toString(cuts), e);
    }
  }

  private static void check(ProxyPipeline.Outcome outcome, byte[] input) {
    switch (outcome.verdict()) {
      case "pending" -> {
        assertTrue(outcome.closed(), "an unfinished header kept open past the PROXY timeout");
        assertEquals("", outcome.payload(), "bytes passed on before the header");
      }
      case "refused" -> {
        assertTrue(outcome.counted(), "a refused header not counted as a PROXY refusal");
        assertTrue(outcome.closed(), "a refused header kept open past the PROXY timeout");
      }
      default -> {
        assertFalse(outcome.closed(), "an accepted header closed the connection");
        checkAccepted(outcome, input);
      }
    }
  }

  /** An accepted header gives its own source address, and the session the rest of the bytes. */
  private static void checkAccepted(ProxyPipeline.Outcome outcome, byte[] input) {
    assertTrue(HEX.formatHex(input).endsWith(outcome.payload()),
        "the session got bytes that were not sent last");
    assertNotNull(outcome.protocol(), "accepted without a header");
    HAProxyProxiedProtocol protocol = HAProxyProxiedProtocol.valueOf(outcome.protocol());
    switch (protocol) {
      case TCP4, TCP6 -> {
        byte[] source = NetUtil.createByteArrayFromIpAddressString(outcome.source());
        assertNotNull(source, "an accepted source that is no address: " + outcome.source());
        // Vert.x makes no address of a zone or brackets ("fe80::1%eth0", "[::1]", which no proxy
        // sends): then the listener closes the connection. Any other source must be the client.
        boolean plain = outcome.source().chars().allMatch(c -> c != '%' && c != '[');
        if (plain || !outcome.client().equals("none")) {
          assertEquals(text(source), outcome.client(), "the client is the header's source");
        }
      }
      case UNIX_STREAM, UNKNOWN -> assertEquals("none", outcome.client(),
          protocol + " gives no client address");
      default -> throw new AssertionError("accepted " + protocol);
    }
  }

  private static String text(byte[] address) {
    try {
      return Addresses.text(InetAddress.getByAddress(address));
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** {@code PROXY <protocol> <source> <destination> <source port> <destination port>}. */
  private static byte[] v1(FuzzedDataProvider data) {
    StringBuilder line = new StringBuilder("PROXY ").append(data.pickValue(V1_PROTOCOLS));
    for (int i = 0; i < 4; i++) {
      line.append(' ');
      if (data.consumeBoolean()) {
        line.append(data.consumeAsciiString(16));
      } else {
        line.append(data.pickValue(i < 2 ? V1_ADDRESSES : V1_PORTS));
      }
    }
    line.append(data.consumeBoolean() ? "\r\n" : "\n");
    byte[] header = line.toString().getBytes(StandardCharsets.ISO_8859_1);
    return concat(header, data.consumeRemainingAsBytes());
  }

  /** Signature, version and command, family, length, addresses, then TLVs. */
  private static byte[] v2(FuzzedDataProvider data) {
    byte command = data.consumeBoolean() ? data.pickValue(new Byte[] {0x21, 0x20})
        : data.consumeByte();
    byte family = data.consumeBoolean()
        ? data.pickValue(new Byte[] {0x11, 0x21, 0x31, 0x12, 0x22, 0x32, 0x00})
        : data.consumeByte();
    int addressLength = switch (family) {
      case 0x11, 0x12 -> 12;
      case 0x21, 0x22 -> 36;
      case 0x31, 0x32 -> 216;
      default -> 0;
    };
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(Arrays.copyOf(data.consumeBytes(addressLength), addressLength));
    for (int i = data.consumeInt(0, 3); i > 0; i--) {
      byte type = data.consumeBoolean()
          ? data.pickValue(new Byte[] {0x01, 0x02, 0x04, 0x05, 0x20, 0x21, 0x22, 0x30})
          : data.consumeByte();
      byte[] value = data.consumeBytes(data.consumeInt(0, 64));
      int declared = data.consumeBoolean() ? value.length : data.consumeInt(0, 0xFFFF);
      body.write(type);
      body.write(declared >> 8);
      body.write(declared);
      body.writeBytes(value);
    }
    int length = data.consumeBoolean() ? body.size() : data.consumeInt(0, 0xFFFF);
    byte[] header = concat(V2_SIGNATURE, new byte[] {command, family, (byte) (length >> 8),
        (byte) length}, body.toByteArray());
    return concat(header, data.consumeRemainingAsBytes());
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
