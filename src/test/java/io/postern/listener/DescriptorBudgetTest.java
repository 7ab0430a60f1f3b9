package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.ConfigError;
import io.postern.config.LimitsConfig;
import io.postern.listener.DescriptorBudget.Usage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Open files as a budget: two per connection, what is open already, and the reserve. */
class DescriptorBudgetTest {

  private static LimitsConfig limits(int maxConnections, int reserve) {
    return new LimitsConfig(Duration.ofSeconds(60), Duration.ofMinutes(30),
        Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(30), 8192, 8192, 5,
        maxConnections, 100, List.of(), Duration.ofSeconds(30), 300, 120, reserve, Duration.ZERO);
  }

  @Test
  void connectionsTheOpenFileLimitCannotHoldShouldBeRefusedWithTheFix() {
    List<ConfigError> errors = new ArrayList<>();
    // 1024 - 100 open - 256 reserved leaves 668 descriptors: 334 connections.
    DescriptorBudget.fit(limits(50_000, 256), new Usage(1024, 100), errors);
    assertThat(errors).singleElement().satisfies(e -> {
      assertThat(e.key()).isEqualTo("limits.max-connections");
      assertThat(e.message()).contains("the open-file limit is 1024")
          .contains("raise it to 100356 (systemd LimitNOFILE=, or ulimit -n")
          .contains("or lower limits.max-connections to 334");
    });

    errors.clear();
    assertThat(DescriptorBudget.fit(limits(334, 256), new Usage(1024, 100), errors)
        .maxConnections()).isEqualTo(334);
    assertThat(errors).isEmpty();
  }

  @Test
  void autoShouldBeTheDefaultOrWhatTheLimitHolds() {
    List<ConfigError> errors = new ArrayList<>();
    assertThat(DescriptorBudget.fit(limits(LimitsConfig.AUTO, 256), new Usage(1024, 100), errors)
        .maxConnections()).isEqualTo(334);
    assertThat(DescriptorBudget.fit(limits(LimitsConfig.AUTO, 256),
        new Usage(1_048_576, 100), errors).maxConnections()).isEqualTo(50_000);
    assertThat(DescriptorBudget.fit(limits(LimitsConfig.AUTO, 256), null, errors)
        .maxConnections()).isEqualTo(50_000);
    assertThat(errors).isEmpty();

    DescriptorBudget.fit(limits(LimitsConfig.AUTO, 256), new Usage(300, 100), errors);
    assertThat(errors).singleElement().asString().contains("limits.max-connections: auto leaves"
        + " no connection");
  }

  @Test
  void newConnectionsShouldBeRefusedOnceHalfTheReserveIsGone() {
    // Limit 1000, reserve 200: the line is at 900 descriptors in use.
    AtomicInteger held = new AtomicInteger(40);
    DescriptorBudget budget = new DescriptorBudget(new Usage(1000, 890), 200, held::get);
    for (int i = 0; i < 10; i++) {
      assertThat(budget.refuseNew()).as("connection %d", i).isFalse();
      held.incrementAndGet();
    }
    assertThat(budget.refuseNew()).as("the one that would pass 900").isTrue();
    // Refused connections are closed at once: however many, they do not add up.
    assertThat(budget.refuseNew()).isTrue();
    held.addAndGet(-5);
    assertThat(budget.refuseNew()).as("after five closed").isFalse();
    assertThat(new DescriptorBudget(null, 200, held::get).refuseNew()).isFalse();
  }
}
