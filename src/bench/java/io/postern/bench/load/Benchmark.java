package io.postern.bench.load;

import io.postern.it.RealParts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * One benchmark run: Dovecot with the test mail, then each proxy in turn (nginx's mail module
 * first when asked, then Postern) in front of it, the same load against each, and the report
 * written to {@code bench.report-dir} (report.md, report.json) and printed.
 */
final class Benchmark {

  private Benchmark() {}

  static BenchReport run(BenchSettings settings) throws Exception {
    RealParts.require("openssl");
    Path dir = Files.createTempDirectory("postern-bench");
    try {
      BenchCertificate cert = BenchCertificate.create(dir, settings.key());
      List<ProxyResults> results = new ArrayList<>();
      try (BenchBackend backend = BenchBackend.start(dir.resolve("dovecot"),
          settings.fetchMib())) {
        if (settings.nginx()) {
          try (NginxUnderTest nginx = NginxUnderTest.start(dir.resolve("nginx"), backend, cert)) {
            results.add(new BenchRun(nginx, cert, settings).measure());
          }
        }
        try (PosternUnderTest postern = PosternUnderTest.start(dir.resolve("postern"), backend,
            cert, settings.jvmOptions())) {
          try {
            results.add(new BenchRun(postern, cert, settings).measure());
          } catch (Exception | Error e) {
            System.out.println(tail(postern.output()));
            System.out.println(tail(backend.logText()));
            throw e;
          }
        }
      }
      BenchReport report = new BenchReport(results, environment(settings));
      Files.createDirectories(settings.reportDir());
      Files.writeString(settings.reportDir().resolve("report.md"), report.markdown(),
          StandardCharsets.UTF_8);
      Files.writeString(settings.reportDir().resolve("report.json"),
          report.json().encodePrettily(), StandardCharsets.UTF_8);
      System.out.println(report.markdown());
      return report;
    } finally {
      try (Stream<Path> tree = Files.walk(dir)) {
        for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      }
    }
  }

  private static String environment(BenchSettings s) throws Exception {
    String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
        .filter(l -> l.startsWith("model name")).findFirst().map(l -> l.replaceAll(".*:\\s*", ""))
        .orElse("?");
    return "Run " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + " on "
        + Runtime.getRuntime().availableProcessors() + " CPUs (" + cpu + "), Java "
        + System.getProperty("java.version") + "; certificate " + s.key() + ", TLS 1.3, "
        + s.concurrency() + " concurrent logins, " + s.logins() + " per variant after "
        + s.warmupLogins() + " of each at start and " + s.jitLogins() + " of each for the JIT; "
        + s.fetchMib() + " MiB message (after " + s.streamWarmups() + " unmeasured transfers); "
        + s.noops()
        + " NOOPs; IDLE levels " + s.sessions() + ", held " + s.idleHoldSeconds()
        + " s; Postern JVM options: the launcher's" + (s.jvmOptions().isBlank() ? ""
        : " + " + s.jvmOptions()) + ". CPU from /proc/PID/stat (10 ms ticks).";
  }

  private static String tail(String text) {
    return text.length() <= 6000 ? text : "..." + text.substring(text.length() - 6000);
  }
}
