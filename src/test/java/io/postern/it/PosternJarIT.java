package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.SClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar, run the way the README runs it, in a copy of the shipped {@code conf/}:
 * {@code --version}, {@code --check-config}, and {@code --demo} with curl in front and a
 * SIGTERM at the end. Ports come from the environment overrides, so nothing fixed is bound.
 */
class PosternJarIT {

  private static final Path JAR = Path.of("target/postern.jar").toAbsolutePath();

  @TempDir
  Path dir;

  private Path work() throws IOException {
    Path conf = Files.createDirectories(dir.resolve("conf/tls"));
    try (Stream<Path> files = Files.list(Path.of("conf"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.copy(f, conf.getParent().resolve(f.getFileName()));
      }
    }
    return dir;
  }

  private static ProcessBuilder java(Path cwd, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        JAR.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    pb.environment().putAll(env);
    return pb;
  }

  private static String run(ProcessBuilder pb, int expectedStatus) throws Exception {
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isEqualTo(expectedStatus);
    return out;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void versionShouldPrintTheProjectVersion() throws Exception {
    assertThat(run(java(work(), Map.of(), "--version"), 0)).startsWith("postern 0.");
  }

  @Test
  void checkConfigShouldNameTheMissingCertificateAndPassInDemoMode() throws Exception {
    Path cwd = work();
    String out = run(java(cwd, Map.of(), "--check-config"), 2);
    assertThat(out).contains("tls.certificates[0]: certificate file conf/tls/postern.crt does"
        + " not exist");
    out = run(java(cwd, Map.of(), "--demo", "--check-config"), 0);
    assertThat(out).contains("configuration conf/postern.yaml is valid");
  }

  @Test
  void demoShouldServeTheDemoMailboxToCurlAndSayByeOnSigterm() throws Exception {
    try (RunningDemo demo = RunningDemo.start(work(), Map.of())) {
      int[] ports = demo.ports();
      Process p = demo.process();
      Clients.ProcessResult imaps = Clients.curl(Duration.ofSeconds(30), "-k", "-u", "demo:demo",
          "imaps://127.0.0.1:" + ports[1] + "/INBOX;UID=1");
      assertThat(imaps.exitCode()).as(imaps.toString()).isZero();
      assertThat(imaps.stdout()).contains("Subject: Welcome to Postern");
      Clients.ProcessResult imap = Clients.curl(Duration.ofSeconds(30), "-k", "--ssl-reqd",
          "-u", "demo:demo", "imap://127.0.0.1:" + ports[0] + "/INBOX?ALL");
      assertThat(imap.stdout()).as(imap.toString()).contains("* SEARCH 1 2 3");
      Clients.ProcessResult pop3s = Clients.curl(Duration.ofSeconds(30), "-k", "-u", "demo:demo",
          "pop3s://127.0.0.1:" + ports[3] + "/");
      assertThat(pop3s.stdout()).as(pop3s.toString()).startsWith("1 ");
      Clients.ProcessResult pop3 = Clients.curl(Duration.ofSeconds(30), "-k", "--ssl-reqd",
          "-u", "demo:demo", "pop3://127.0.0.1:" + ports[2] + "/1");
      assertThat(pop3.stdout()).as(pop3.toString()).contains("Subject: Welcome to Postern");
      // A plaintext login is refused: the password never crosses the wire in the clear.
      Clients.ProcessResult plain = Clients.curl(Duration.ofSeconds(30), "-u", "demo:demo",
          "imap://127.0.0.1:" + ports[0] + "/INBOX");
      assertThat(plain.exitCode()).isEqualTo(67);

      // The README's admin lines: what those logins counted, and readiness.
      java.util.regex.Matcher admin = java.util.regex.Pattern
          .compile("admin on (http://127\\.0\\.0\\.1:\\d+)").matcher(demo.output());
      assertThat(admin.find()).as(demo.output().toString()).isTrue();
      Clients.ProcessResult metrics = Clients.curl(Duration.ofSeconds(30), "-s",
          admin.group(1) + "/metrics");
      assertThat(metrics.stdout()).contains(
          "postern_logins_total{mechanism=\"plain\",protocol=\"imap\",result=\"success\"} 2.0",
          "postern_logins_total{mechanism=\"plain\",protocol=\"pop3\",result=\"success\"} 2.0");
      Clients.ProcessResult ready = Clients.curl(Duration.ofSeconds(30), "-s", "-w",
          "%{http_code}", admin.group(1) + "/health/ready");
      assertThat(ready.stdout()).contains("\"status\":\"ready\"").endsWith("200");

      try (Conversation waiting = MailClient.plain(ports[0], null)) {
        waiting.expect("* OK");
        // SIGTERM; Process.destroy() would also close our end of its output pipe.
        p.toHandle().destroy();
        assertThat(waiting.readLine()).isEqualTo("* BYE [UNAVAILABLE] Server shutting down.");
      }
      assertThat(demo.awaitExit()).contains("Postern stopping").contains("result=shutdown")
          .contains("listener=imaps").contains("user=demo");
    }
  }

  @Test
  void theJarWithTheJdkEngineShouldRefuseClientInitiatedRenegotiation() throws Exception {
    try (RunningDemo demo = RunningDemo.start(work(), Map.of("POSTERN_TLS__ENGINE", "jdk"))) {
      SClient.Renegotiation r = SClient.renegotiate(
          new SClient.Target("imaps", demo.ports()[1], null), "r NOOP");
      assertThat(r.attempted()).as(r.client()).isTrue();
      assertThat(r.completed()).as(r.client()).isFalse();
    }
  }

  /** {@code java -jar postern.jar --demo} on four free loopback ports, up and greeting. */
  private record RunningDemo(Process process, int[] ports, StringBuffer output, Thread reader)
      implements AutoCloseable {

    static RunningDemo start(Path cwd, Map<String, String> extraEnv) throws Exception {
      Map<String, String> env = new HashMap<>(extraEnv);
      // The admin endpoint on a port of the OS's choosing, not the shipped 9102.
      env.put("POSTERN_ADMIN__PORT", "0");
      int[] ports = new int[4];
      for (int i = 0; i < 4; i++) {
        ports[i] = freePort();
        env.put("POSTERN_LISTENERS__" + i + "__PORT", String.valueOf(ports[i]));
        env.put("POSTERN_LISTENERS__" + i + "__ADDRESS", "127.0.0.1");
      }
      Process p = java(cwd, env, "--demo").redirectErrorStream(true).start();
      StringBuffer output = new StringBuffer();
      Thread reader = new Thread(() -> drain(p.getInputStream(), output));
      reader.start();
      RunningDemo demo = new RunningDemo(p, ports, output, reader);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
          .until(() -> output.toString().contains("started") || !p.isAlive());
      if (!p.isAlive()) {
        demo.close();
        throw new AssertionError("postern --demo did not start:\n" + output);
      }
      return demo;
    }

    /** Waits for the process to end and returns everything it printed. */
    String awaitExit() throws InterruptedException {
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      reader.join(10_000);
      return output.toString();
    }

    @Override
    public void close() throws InterruptedException {
      // SIGTERM first; Process.destroy() would also close our end of its output pipe.
      process.toHandle().destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      reader.join(10_000);
    }
  }

  private static void drain(InputStream in, StringBuffer into) {
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        into.append(new String(buf, 0, n, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      // process ended
    }
  }
}
