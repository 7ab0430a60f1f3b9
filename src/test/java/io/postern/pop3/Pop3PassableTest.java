package io.postern.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which backend CAPA lines may reach a client before login: whole, well-formed lines only. */
class Pop3PassableTest {

  @Test
  void theExtensionsThatMatterAfterLoginShouldPass() {
    assertThat(Pop3Protocol.passable("TOP")).isTrue();
    assertThat(Pop3Protocol.passable("UIDL")).isTrue();
    assertThat(Pop3Protocol.passable("PIPELINING")).isTrue();
    assertThat(Pop3Protocol.passable("EXPIRE NEVER")).isTrue();
    assertThat(Pop3Protocol.passable("EXPIRE 30 USER")).isTrue();
    assertThat(Pop3Protocol.passable("LOGIN-DELAY 900")).isTrue();
  }

  @Test
  void aHostileOrMalformedLineShouldNotPass() {
    assertThat(Pop3Protocol.passable("EXPIRE 1\rSTLS")).isFalse();
    assertThat(Pop3Protocol.passable("TOP\u001b[2J")).isFalse();
    assertThat(Pop3Protocol.passable("UIDL \u0000")).isFalse();
    assertThat(Pop3Protocol.passable("LOGIN-DELAY " + "9".repeat(5000))).isFalse();
    assertThat(Pop3Protocol.passable("TOP extra words")).isFalse();
    assertThat(Pop3Protocol.passable("SASL PLAIN")).isFalse();
    assertThat(Pop3Protocol.passable("XCLIENT ADDR")).isFalse();
  }
}
