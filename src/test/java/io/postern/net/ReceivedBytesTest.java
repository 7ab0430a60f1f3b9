package io.postern.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ReceivedBytesTest {

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void offsetsShouldCountFromTheFirstUnconsumedByteAcrossCompactionAndGrowth() {
    ReceivedBytes bytes = new ReceivedBytes(8, 1024);
    for (int round = 0; round < 100; round++) {
      assertThat(bytes.append(ascii("ab\ncd"))).isTrue();
      int lf = bytes.indexOf((byte) '\n', 0);
      assertThat(new String(bytes.copy(0, lf), StandardCharsets.US_ASCII))
          .isEqualTo(round == 0 ? "ab" : "cdab");
      bytes.consume(lf + 1);
      assertThat(bytes.size()).isEqualTo(2);
      assertThat(bytes.at(0)).isEqualTo((byte) 'c');
    }
    assertThat(bytes.drain()).isEqualTo(ascii("cd"));
    assertThat(bytes.size()).isZero();
  }

  @Test
  void theLimitShouldRefuseAndKeepWhatIsAlreadyHeld() {
    ReceivedBytes bytes = new ReceivedBytes(4, 10);
    assertThat(bytes.append(ascii("0123456789"))).isTrue();
    assertThat(bytes.append(ascii("x"))).isFalse();
    assertThat(bytes.size()).isEqualTo(10);
    bytes.consume(5);
    assertThat(bytes.append(ascii("abcde"))).isTrue();
    assertThat(bytes.drain()).isEqualTo(ascii("56789abcde"));
  }

  @Test
  void readingOrConsumingPastWhatIsHeldShouldThrow() {
    ReceivedBytes bytes = new ReceivedBytes(4, 10);
    bytes.append(ascii("abc"));
    assertThatThrownBy(() -> bytes.at(3)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> bytes.copy(1, 4)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> bytes.consume(4)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThat(bytes.size()).isEqualTo(3);
  }
}
