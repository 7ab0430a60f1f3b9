package io.postern.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.vertx.core.buffer.Buffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The PROXY v2 header's bytes (HAProxy's proxy-protocol.txt §2.2), and that an independent
 * parser (Netty's, which Postern's own listeners use) reads back what was meant.
 */
class ProxyV2HeaderTest {

  private static final String SIGNATURE = "0d0a0d0a000d0a515549540a";

  @Test
  void anIpv4ClientGivesATcp4ProxyHeader() {
    Buffer header = ProxyV2Header.of(new ClientOrigin("192.0.2.7", 50000, "10.0.0.1", 993,
        "0123456789ab"));
    assertThat(hex(header)).isEqualTo(SIGNATURE + "21" + "11" + "000c"
        + "c0000207" + "0a000001" + "c350" + "03e1");
    HAProxyMessage read = decode(header);
    assertThat(read.command()).isEqualTo(HAProxyCommand.PROXY);
    assertThat(read.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP4);
    assertThat(read.sourceAddress()).isEqualTo("192.0.2.7");
    assertThat(read.sourcePort()).isEqualTo(50000);
    assertThat(read.destinationAddress()).isEqualTo("10.0.0.1");
    assertThat(read.destinationPort()).isEqualTo(993);
    read.release();
  }

  @Test
  void anIpv6ClientGivesATcp6ProxyHeader() {
    Buffer header = ProxyV2Header.of(new ClientOrigin("2001:db8::7", 1, "2001:db8::1", 143,
        "0123456789ab"));
    assertThat(hex(header)).isEqualTo(SIGNATURE + "21" + "21" + "0024"
        + "20010db8000000000000000000000007" + "20010db8000000000000000000000001"
        + "0001" + "008f");
    HAProxyMessage read = decode(header);
    assertThat(read.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.TCP6);
    assertThat(read.sourceAddress()).isEqualTo("2001:db8:0:0:0:0:0:7");
    assertThat(read.destinationPort()).isEqualTo(143);
    read.release();
  }

  /** One family for both ends: an IPv4 client of an IPv6 listener is sent IPv4-mapped. */
  @Test
  void mixedFamiliesGiveTcp6WithAnIpv4MappedAddress() {
    Buffer header = ProxyV2Header.of(new ClientOrigin("192.0.2.7", 2, "2001:db8::1", 3, "x"));
    assertThat(hex(header)).isEqualTo(SIGNATURE + "21" + "21" + "0024"
        + "00000000000000000000ffffc0000207" + "20010db8000000000000000000000001"
        + "0002" + "0003");
  }

  @Test
  void anUnknownLocalAddressIsSentAsTheUnspecifiedAddress() {
    Buffer header = ProxyV2Header.of(new ClientOrigin("192.0.2.7", 2, null, 0, "x"));
    assertThat(hex(header)).isEqualTo(SIGNATURE + "21" + "11" + "000c"
        + "c0000207" + "00000000" + "0002" + "0000");
  }

  @Test
  void noClientGivesALocalHeader() {
    assertThat(hex(ProxyV2Header.of(null))).isEqualTo(SIGNATURE + "20" + "00" + "0000");
    HAProxyMessage read = decode(ProxyV2Header.local());
    assertThat(read.command()).isEqualTo(HAProxyCommand.LOCAL);
    assertThat(read.protocolVersion()).isEqualTo(HAProxyProtocolVersion.V2);
    assertThat(read.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.UNKNOWN);
    read.release();
  }

  private static HAProxyMessage decode(Buffer header) {
    EmbeddedChannel channel = new EmbeddedChannel(new HAProxyMessageDecoder());
    assertThat(channel.writeInbound(Unpooled.wrappedBuffer(header.getBytes()))).isTrue();
    HAProxyMessage message = channel.readInbound();
    channel.finishAndReleaseAll();
    return message;
  }

  private static String hex(Buffer buffer) {
    return HexFormat.of().formatHex(buffer.getBytes());
  }
}
