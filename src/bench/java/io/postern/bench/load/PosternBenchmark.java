package io.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The load benchmark (README, Performance, Benchmark): {@code mvn -B -P bench verify}, knobs as
 * {@code -Dbench.*} (see {@link BenchSettings}). Run only by the {@code bench} profile; the name
 * matches no test pattern on purpose.
 */
class PosternBenchmark {

  @Test
  void benchmark() throws Exception {
    BenchReport report = Benchmark.run(BenchSettings.fromSystemProperties());
    assertThat(report.proxies()).isNotEmpty();
  }
}
