package io.postern.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Proves that every JMH benchmark still runs (README, Performance, Micro-benchmarks): each once,
 * in this JVM, for about 100 ms, with a finite score. Timing means nothing here; the benchmark
 * list comes from the annotation processor (META-INF/BenchmarkList), so a broken build of it
 * fails this test too.
 */
class JmhSmokeTest {

  @Test
  void everyBenchmarkRunsAndScores() throws Exception {
    // JMH refuses to run next to another JMH (a lock in /tmp), which is right for measuring; this
    // run measures nothing, and a benchmark run by hand must not fail the build.
    System.setProperty("jmh.ignoreLock", "true");
    Options options = new OptionsBuilder()
        .include(JmhSmokeTest.class.getPackageName() + "\\.")
        .forks(0)
        .warmupIterations(0)
        .measurementIterations(1)
        .measurementTime(TimeValue.milliseconds(100))
        .timeout(TimeValue.seconds(30))
        .shouldFailOnError(true)
        .addProfiler(CpuTimeProfiler.class)
        // 1 MiB instead of 16 relayed per operation: a few operations within the 100 ms.
        .param("mib", "1")
        .build();

    Collection<RunResult> results = new Runner(options).run();

    // 5 IMAP, 3 POP3, 4 SASL, 6 boundary streams, 2 relays.
    assertThat(results).hasSize(20);
    for (RunResult result : results) {
      String name = result.getParams().getBenchmark() + " " + result.getParams().getParamsKeys()
          .stream().map(k -> k + "=" + result.getParams().getParam(k)).toList();
      assertThat(result.getPrimaryResult().getScore()).as(name).isFinite().isPositive();
      assertThat(result.getSecondaryResults().get("cpu.time.norm").getScore()).as(name)
          .isFinite();
    }
  }
}
