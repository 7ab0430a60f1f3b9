package io.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Wrong admin tokens lock out their address for a minute, and only theirs. */
class TokenLockoutTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final TokenLockout lockout = new TokenLockout(now::get);

  @Test
  void fiveWrongTokensInARowShouldLockTheAddressOutForAMinute() {
    for (int i = 1; i < TokenLockout.MAX_FAILURES; i++) {
      assertThat(lockout.failed("192.0.2.1")).isFalse();
      assertThat(lockout.lockedFor("192.0.2.1")).isZero();
    }
    assertThat(lockout.failed("192.0.2.1")).isTrue();
    assertThat(lockout.lockedFor("192.0.2.1")).isEqualTo(TokenLockout.LOCKOUT);
    assertThat(lockout.lockedFor("192.0.2.2")).as("another address").isZero();
    now.addAndGet(Duration.ofSeconds(59).toNanos());
    assertThat(lockout.lockedFor("192.0.2.1")).isEqualTo(Duration.ofSeconds(1));
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(lockout.lockedFor("192.0.2.1")).isZero();
  }

  @Test
  void theRightTokenShouldStartTheCountAgain() {
    for (int i = 1; i < TokenLockout.MAX_FAILURES; i++) {
      lockout.failed("192.0.2.1");
    }
    lockout.succeeded("192.0.2.1");
    for (int i = 1; i < TokenLockout.MAX_FAILURES; i++) {
      assertThat(lockout.failed("192.0.2.1")).isFalse();
    }
    assertThat(lockout.lockedFor("192.0.2.1")).isZero();
  }
}
