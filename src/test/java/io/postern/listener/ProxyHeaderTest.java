package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The PROXY header path on Vert.x's pipeline: what ProxyHeaderFuzzTest found, and plain cases. */
class ProxyHeaderTest {

  /** A v2 PROXY TCP4 header, 192.0.2.7:5000 to 10.0.0.1:143, followed by {@code tlvs}. */
  private static byte[] v2Tcp4(int... tlvBytes) {
    byte[] tlvs = new byte[tlvBytes.length];
    for (int i = 0; i < tlvs.length; i++) {
      tlvs[i] = (byte) tlvBytes[i];
    }
    int length = 12 + tlvs.length;
    byte[] fixed = {0x21, 0x11, (byte) (length >> 8), (byte) length, (byte) 192, 0, 2, 7, 10, 0, 0,
        1, 0x13, (byte) 0x88, 0, (byte) 143};
    return ProxyHeaderFuzzTest.concat(ProxyHeaderFuzzTest.V2_SIGNATURE, fixed, tlvs);
  }

  @Test
  void aV1HeaderGivesItsSourceAsTheClientAndTheRestToTheSession() {
    ProxyPipeline.Outcome outcome = ProxyPipeline.feed(List.of(
        "PROXY TCP4 192.0.2.7 10.0.0.1 5000 143\r\na NOOP\r\n".getBytes(StandardCharsets.US_ASCII)));
    assertThat(outcome.verdict()).isEqualTo("accepted");
    assertThat(outcome.client()).isEqualTo("192.0.2.7");
    assertThat(outcome.payload()).isEqualTo("61204e4f4f500d0a");
    assertThat(outcome.closed()).isFalse();
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAtThePROXYTimeout() {
    ProxyPipeline.Outcome outcome = ProxyPipeline.feed(List.of());
    assertThat(outcome.verdict()).isEqualTo("pending");
    assertThat(outcome.closed()).isTrue();
  }

  /**
   * Netty up to 4.2.17 retained the header's buffer for an SSL TLV before reading it, and lost it
   * when the TLV was too short: one leaked buffer per connection, from anyone who can connect.
   * (feed() fails on any buffer left unreleased.)
   */
  @Test
  void aShortSslTlvIsRefusedWithoutLeakingItsBuffer() {
    ProxyPipeline.Outcome outcome = ProxyPipeline.feed(List.of(v2Tcp4(0x20, 0, 1, 0)));
    assertThat(outcome.verdict()).isEqualTo("refused");
    assertThat(outcome.counted()).isTrue();
    assertThat(outcome.closed()).isTrue();
  }

  /** Netty lets this out as an IndexOutOfBoundsException: still a PROXY refusal in the metrics. */
  @Test
  void aTlvLongerThanTheHeaderIsCountedAsAProxyRefusal() {
    ProxyPipeline.Outcome outcome = ProxyPipeline.feed(List.of(v2Tcp4(0x30, 0, 58, 1, 2)));
    assertThat(outcome.verdict()).isEqualTo("refused");
    assertThat(outcome.counted()).isTrue();
    assertThat(outcome.closed()).isTrue();
  }
}
