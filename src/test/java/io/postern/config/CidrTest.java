package io.postern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {

  private static InetAddress ip(String s) throws Exception {
    return InetAddress.getByName(s);
  }

  @Test
  void containsShouldMatchAddressesInsideThePrefixOnly() throws Exception {
    Cidr net = Cidr.parse("10.1.0.0/16");
    assertThat(net.contains(ip("10.1.255.3"))).isTrue();
    assertThat(net.contains(ip("10.2.0.1"))).isFalse();
    assertThat(net.contains(ip("::1"))).isFalse();
    assertThat(Cidr.parse("192.0.2.7").contains(ip("192.0.2.7"))).isTrue();
    assertThat(Cidr.parse("192.0.2.7").contains(ip("192.0.2.8"))).isFalse();
    assertThat(Cidr.parse("2001:db8::/32").contains(ip("2001:db8:ffff::1"))).isTrue();
    assertThat(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9"))).isTrue();
  }

  @Test
  void parseShouldRefuseNamesAndBadPrefixes() {
    assertThatThrownBy(() -> Cidr.parse("mail.example.org/24"))
        .hasMessageContaining("not an IP address");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("0..32");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessageContaining("prefix");
  }

  @Test
  void durationsShouldNeedAUnit() {
    assertThat(Durations.parse("250ms").toMillis()).isEqualTo(250);
    assertThat(Durations.parse("2d").toHours()).isEqualTo(48);
    assertThatThrownBy(() -> Durations.parse("30")).hasMessageContaining("not a duration");
    assertThat(Durations.format(Durations.parse("90s"))).isEqualTo("90s");
    assertThat(Durations.format(Durations.parse("120s"))).isEqualTo("2m");
  }
}
