package io.postern.it.soak;

import io.postern.it.DovecotServer;
import io.postern.it.NginxAuthService;
import io.postern.it.PosternJar;
import io.postern.it.RealParts;
import io.postern.testing.OpensslCertificates;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/**
 * The soak (README, Security, Soak): the packaged jar in front of a real Dovecot, with the
 * auth_http service as its auth source, under a mixed load for {@code soak.duration} while both
 * go down and come back; then every invariant is checked and the report is printed and written
 * to {@code target/soak/report.txt}. Run only by the {@code soak} Maven profile
 * ({@code mvn -Psoak verify -Dsoak.duration=60m}); the name matches no test pattern on purpose.
 */
class PosternSoak {

  private static final Duration QUIET_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration PROGRESS_EVERY = Duration.ofMinutes(1);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void soak() throws Exception {
    SoakSettings settings = SoakSettings.fromSystemProperties();
    RealParts.require("python3");
    RealParts.require("curl");
    Path dir = Files.createTempDirectory("postern-soak");
    Files.createDirectories(settings.reportDir());
    SoakAccounts accounts = SoakAccounts.create(settings.idlers(), settings.seed());
    ExecutorService floodThreads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "soak-flood");
      t.setDaemon(true);
      return t;
    });
    try (DovecotServer dovecot = DovecotServer.start(dir.resolve("dovecot"),
            accounts.mailboxPasswords());
        NginxAuthService auth = NginxAuthService.start(dir.resolve("auth"),
            accounts.serviceUsers(dovecot.imapPort(), dovecot.pop3Port(), dovecot.imapsPort(),
                dovecot.pop3sPort()))) {
      SoakMail mail = SoakMail.deliver(dovecot, accounts, settings.seed());
      OpensslCertificates.Pair cert = OpensslCertificates.localhost(dir, "postern");
      Path config = dir.resolve("postern.yaml");
      Files.writeString(config, configuration(cert, auth, dovecot));
      try (PosternJar postern = PosternJar.start(dir,
          Map.of("JAVA_TOOL_OPTIONS", settings.jvmOptions()), "--config", config.toString())) {
        try {
          run(settings, accounts, mail, dovecot, auth, postern, cert, floodThreads, dir);
        } finally {
          Files.writeString(settings.reportDir().resolve("postern.log"), postern.output());
        }
      }
    } finally {
      floodThreads.shutdownNow();
      // The auth service's request log holds every password typed; the report keeps what matters.
      try (Stream<Path> tree = Files.walk(dir)) {
        for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      }
    }
  }

  private void run(SoakSettings settings, SoakAccounts accounts, SoakMail mail,
      DovecotServer dovecot, NginxAuthService auth, PosternJar postern,
      OpensslCertificates.Pair cert, ExecutorService floodThreads, Path dir) throws Exception {
    Map<String, Integer> ports = postern.listenerPorts();
    Path scratch = Files.createDirectories(dir.resolve("fetched"));
    Outages outages = new Outages(dovecot, auth, settings.outageEvery(), settings.seed());
    Tally tally = new Tally(outages);
    SoakLoad load = new SoakLoad(settings, accounts, mail,
        new RealClients(ports, cert.cert(), scratch, mail),
        new IdleClient(ports, trusting(cert.cert()), mail), new Flooder(ports, floodThreads),
        tally);
    ProcessProbe probe = new ProcessProbe(postern.pid());

    log("warming up (every client kind once)");
    load.warmUp();
    SoakReport.Resources baseline = settle(postern, probe, -1);
    log("baseline " + baseline + "; load for " + settings.duration());

    ProcessProbe.Sample peak = baseline.sample();
    long peakHeap = baseline.heapAfterGc();
    Thread chaos = new Thread(outages, "soak-outages");
    chaos.start();
    Thread loadThread = new Thread(() -> {
      try {
        load.run(settings.duration());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "soak-load");
    long started = System.nanoTime();
    loadThread.start();
    long stopAt = started + settings.duration().toNanos();
    long nextProgress = started + PROGRESS_EVERY.toNanos();
    while (System.nanoTime() - stopAt < 0) {
      // The sampling pace, not synchronization: peak memory and descriptors under load.
      Thread.sleep(Math.min(5_000, Math.max(1, (stopAt - System.nanoTime()) / 1_000_000)));
      ProcessProbe.Sample now = probe.sample();
      peak = new ProcessProbe.Sample(Math.max(peak.rssKib(), now.rssKib()),
          Math.max(peak.fds(), now.fds()), Math.max(peak.threads(), now.threads()));
      peakHeap = Math.max(peakHeap, (long) MetricsScrape.read(postern.adminUrl())
          .sum("jvm_memory_used_bytes", "area", "heap"));
      if (System.nanoTime() - nextProgress >= 0) {
        nextProgress += PROGRESS_EVERY.toNanos();
        log(progress(tally, outages, started, now));
      }
    }
    outages.stop();
    chaos.join();
    loadThread.join();
    Duration loadTime = Duration.ofNanos(System.nanoTime() - started);
    log("load over after " + loadTime.toSeconds() + " s; final pass once Postern is ready");
    awaitTrue(QUIET_TIMEOUT, () -> ready(postern));
    load.finalPass();

    SoakReport.Resources end = settle(postern, probe, baseline.sample().fds());
    List<String> leftOpen = end.sample().fds() > baseline.sample().fds() + SoakReport.FD_SLACK
        ? probe.fdTargets() : List.of();
    boolean alive = ProcessHandle.of(postern.pid()).map(ProcessHandle::isAlive).orElse(false);
    List<String> secrets = new ArrayList<>(accounts.passwords());
    secrets.add("guess-");
    SoakReport report = new SoakReport(tally, new SoakReport.Run(settings, loadTime,
        outages.windows(), outages.problems(), MetricsScrape.read(postern.adminUrl()), baseline,
        new SoakReport.Resources(peak, peakHeap), end, leftOpen,
        PosternLog.scan(postern.output(), secrets), alive));
    String text = report.text();
    Files.writeString(settings.reportDir().resolve("report.txt"), text, StandardCharsets.UTF_8);
    Files.writeString(settings.reportDir().resolve("attempts.tsv"), report.attemptLog(),
        StandardCharsets.UTF_8);
    System.out.println(text);
    if (!report.failures().isEmpty()) {
      throw new AssertionError("soak invariants broken (" + settings.reportDir().resolve("report.txt")
          + "):\n" + String.join("\n", report.failures().stream().map(c -> c.name() + ": expected "
              + c.expected() + ", measured " + c.measured()
              + (c.example().isEmpty() ? "" : " (" + c.example() + ")")).toList()));
    }
  }

  /**
   * Waits until Postern has no connection left and its descriptors have stopped changing (the
   * auth service's kept-alive connection closes after 4 s idle), or, after the load, are within
   * the slack of {@code baselineFds}; then a full GC, and a look at heap, RSS, descriptors.
   */
  private static SoakReport.Resources settle(PosternJar postern, ProcessProbe probe,
      int baselineFds) throws Exception {
    awaitTrue(QUIET_TIMEOUT, () -> {
      MetricsScrape m = MetricsScrape.read(postern.adminUrl());
      return m.sum("postern_connections_active") == 0 && m.sum("postern_sessions_active") == 0;
    });
    int[] last = {-1};
    long[] stableSince = {System.nanoTime()};
    awaitTrue(QUIET_TIMEOUT, () -> {
      int fds = probe.fds();
      if (fds != last[0]) {
        last[0] = fds;
        stableSince[0] = System.nanoTime();
      }
      boolean stable = System.nanoTime() - stableSince[0] > Duration.ofSeconds(6).toNanos();
      return baselineFds < 0 ? stable : stable || fds <= baselineFds + SoakReport.FD_SLACK;
    });
    probe.collectGarbage();
    long heap = (long) MetricsScrape.read(postern.adminUrl())
        .sum("jvm_memory_used_bytes", "area", "heap");
    return new SoakReport.Resources(probe.sample(), heap);
  }

  /** Postern's /health/ready: listeners bound, the auth service answering, a backend reachable. */
  private static boolean ready(PosternJar postern) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(postern.adminUrl() + "/health/ready"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode() == 200;
  }

  @FunctionalInterface
  private interface Condition {
    boolean holds() throws Exception;
  }

  /** Polls {@code condition} until it holds or {@code timeout} passes (then it goes on anyway). */
  private static void awaitTrue(Duration timeout, Condition condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.holds() && System.nanoTime() - deadline < 0) {
      Thread.sleep(500);
    }
  }

  private static String progress(Tally tally, Outages outages, long started,
      ProcessProbe.Sample now) {
    long minutes = Duration.ofNanos(System.nanoTime() - started).toMinutes();
    long ok = tally.count(a -> a.outcome() == Attempt.Outcome.OK);
    long bad = tally.count(a -> !a.violations().isEmpty());
    return String.format("%d min: %d client runs (%d ok, %d with violations), %d outages, RSS %d MiB,"
        + " %d fds, %d threads", minutes, tally.attempts().size(), ok, bad,
        outages.windows().size(), now.rssKib() >> 10, now.fds(), now.threads());
  }

  private static void log(String line) {
    System.out.println("[soak] " + line);
  }

  private static String configuration(OpensslCertificates.Pair cert, NginxAuthService auth,
      DovecotServer dovecot) {
    // The shipped defaults for everything but where things are: limits, throttle, cache, delays.
    return String.join("\n",
        "listeners:",
        "  - { name: imap,  protocol: imap, address: 127.0.0.1, port: 0, tls: starttls }",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3,  protocol: pop3, address: 127.0.0.1, port: 0, tls: starttls }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth:",
        "  source: http",
        "  http: { url: '" + auth.url() + "' }",
        "backends:",
        "  default:",
        "    host: 127.0.0.1",
        "    imap: { port: " + dovecot.imapPort() + ", tls: none }",
        "    pop3: { port: " + dovecot.pop3Port() + ", tls: none }",
        "  " + SoakAccounts.TLS_BACKEND + ":",
        "    host: 127.0.0.1",
        "    imap: { port: " + dovecot.imapsPort() + ", tls: implicit }",
        "    pop3: { port: " + dovecot.pop3sPort() + ", tls: implicit }",
        "    ca: '" + dovecot.certificate() + "'",
        "admin: { address: 127.0.0.1, port: 0 }",
        "");
  }

  private static SSLContext trusting(Path certificate) throws Exception {
    KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
    anchors.load(null, null);
    try (InputStream in = Files.newInputStream(certificate)) {
      anchors.setCertificateEntry("postern", CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    trust.init(anchors);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }
}
