package io.postern.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.backend.ServerHealth.Change;
import io.postern.config.BackendConfig.HealthCheck;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** HAProxy's fall and rise, and what a login's failure counts for. */
class ServerHealthTest {

  private static final HealthCheck FALL_3_RISE_2 =
      new HealthCheck(true, Duration.ofSeconds(5), Duration.ofSeconds(2), 3, 2);

  @Test
  void aServerShouldGoDownAfterFallFailuresInARowAndUpAfterRiseSuccesses() {
    ServerHealth health = new ServerHealth(FALL_3_RISE_2);
    assertThat(health.up()).as("a new server takes logins at once").isTrue();
    assertThat(health.failed("refused")).isEqualTo(Change.NONE);
    assertThat(health.failed("refused")).isEqualTo(Change.NONE);
    assertThat(health.failed("refused")).isEqualTo(Change.WENT_DOWN);
    assertThat(health.up()).isFalse();
    assertThat(health.lastProblem()).isEqualTo("refused");
    assertThat(health.succeeded()).isEqualTo(Change.NONE);
    assertThat(health.up()).isFalse();
    assertThat(health.succeeded()).isEqualTo(Change.CAME_UP);
    assertThat(health.up()).isTrue();
    assertThat(health.lastProblem()).isNull();
  }

  @Test
  void aSuccessShouldResetTheFailuresAndAFailureTheSuccesses() {
    ServerHealth health = new ServerHealth(FALL_3_RISE_2);
    health.failed("timeout");
    health.failed("timeout");
    health.succeeded();
    health.failed("timeout");
    health.failed("timeout");
    assertThat(health.up()).as("never three in a row").isTrue();
    health.failed("timeout");
    assertThat(health.up()).isFalse();
    health.succeeded();
    health.failed("timeout");
    health.succeeded();
    assertThat(health.up()).as("never two successes in a row").isFalse();
  }

  @Test
  void withoutChecksNothingCouldBringAServerBackSoNothingTakesItDown() {
    ServerHealth health = new ServerHealth(HealthCheck.OFF);
    for (int i = 0; i < 10; i++) {
      health.failed("refused");
    }
    assertThat(health.up()).isTrue();
    assertThat(health.lastProblem()).isEqualTo("refused");
  }
}
