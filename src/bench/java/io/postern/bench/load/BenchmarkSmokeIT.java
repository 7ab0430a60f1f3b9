package io.postern.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's whole flow with tiny numbers (5 logins a variant, a 1 MiB message, 20 IDLE
 * sessions), nginx included, so that CI proves it still runs: every row of the report gets a
 * figure. No figure is judged here; a timed test on a shared CI machine would only be noise.
 */
class BenchmarkSmokeIT {

  @Test
  void everyRowOfTheReportShouldGetAFigure() throws Exception {
    Path reportDir = Path.of("target/bench-smoke");
    BenchReport report = Benchmark.run(BenchSettings.smoke(reportDir, true));

    assertThat(report.proxies()).extracting(ProxyResults::proxy)
        .containsExactly("nginx", "Postern");
    for (BenchReport.Row row : report.rows()) {
      assertThat(row.numbers()).as(row.label()).allSatisfy(n -> assertThat(n).isFinite());
    }
    // The client really does what each variant says: no full handshake resumes, and every
    // login of the resumed variants resumes (else the "resumed" row would price full ones).
    for (ProxyResults p : report.proxies()) {
      assertThat(p.full()).allSatisfy(r -> assertThat(r.resumedHandshakes()).isZero());
      assertThat(p.resumed()).as(p.proxy() + " resumed logins")
          .allSatisfy(r -> assertThat(r.resumedHandshakes()).isEqualTo(r.logins()));
    }
    for (ProxyResults p : report.proxies()) {
      assertThat(p.max().held()).as(p.proxy() + " IDLE sessions held").isEqualTo(20);
      assertThat(p.fetch().bytes()).as("FETCH BODY[] bytes").isGreaterThan(1_000_000);
      assertThat(p.retr().bytes()).as("RETR bytes").isGreaterThan(1_000_000);
    }
    assertThat(Files.readString(reportDir.resolve("report.md")))
        .contains("| proxy CPU per IMAP/POP3 login over TLS");
    assertThat(Files.readString(reportDir.resolve("report.json"))).contains("\"rows\"");
  }
}
