package io.postern.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class AddressesTest {

  private static InetAddress ip(String s) throws Exception {
    return InetAddress.getByName(s);
  }

  @Test
  void textShouldWriteIpv6TheShortWayRfc5952Says() throws Exception {
    assertThat(Addresses.text(ip("0:0:0:0:0:0:0:1"))).isEqualTo("::1");
    assertThat(Addresses.text(ip("::"))).isEqualTo("::");
    assertThat(Addresses.text(ip("2001:db8:0:0:1:0:0:1"))).isEqualTo("2001:db8::1:0:0:1");
    assertThat(Addresses.text(ip("2001:0:0:1:0:0:0:1"))).isEqualTo("2001:0:0:1::1");
    assertThat(Addresses.text(ip("1:0:2:3:4:5:6:7"))).isEqualTo("1:0:2:3:4:5:6:7");
    assertThat(Addresses.text(ip("2001:DB8::A"))).isEqualTo("2001:db8::a");
    assertThat(Addresses.text(ip("192.0.2.7"))).isEqualTo("192.0.2.7");
  }

  @Test
  void subscriberKeyShouldGroupAnIpv6Slash64() throws Exception {
    assertThat(Addresses.subscriberKey(ip("2001:db8:1:2::5")))
        .isEqualTo(Addresses.subscriberKey(ip("2001:db8:1:2:ffff::9")))
        .isNotEqualTo(Addresses.subscriberKey(ip("2001:db8:1:3::5")));
    assertThat(Addresses.subscriberKey(ip("192.0.2.7"))).isEqualTo("192.0.2.7");
  }

  @Test
  void literalShouldReadIpLiteralsAndNothingElse() throws Exception {
    assertThat(Addresses.literal("192.0.2.7")).isEqualTo(ip("192.0.2.7"));
    assertThat(Addresses.literal("::1")).isEqualTo(ip("::1"));
    assertThat(Addresses.literal("localhost")).isNull();
    assertThat(Addresses.literal("")).isNull();
    assertThat(Addresses.literal(null)).isNull();
    // Found by AddressesFuzzTest: InetAddress.getByName asked the resolver for near-misses and
    // read a bare number as an IPv4 address.
    assertThat(Addresses.literal("g::1")).isNull();
    assertThat(Addresses.literal("1.2.3.4.5")).isNull();
    assertThat(Addresses.literal("6")).isNull();
    assertThat(Addresses.literal("1.2.3")).isNull();
    assertThat(Addresses.literal("fe80::1%eth0")).isEqualTo(ip("fe80::1"));
    assertThat(Addresses.literal("::ffff:192.0.2.7")).isEqualTo(ip("192.0.2.7"));
  }
}
