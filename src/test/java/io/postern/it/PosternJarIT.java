package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.ExternalCommand;
import io.postern.testing.MailClient;
import io.postern.testing.ProcessResult;
import io.postern.testing.SClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar, run the way the README runs it, in a copy of the shipped {@code conf/}:
 * {@code --version}, {@code --check-config}, and {@code --demo} with curl in front and a
 * SIGTERM at the end, or started under {@code nohup} (SIGHUP ignored). Ports come from the environment overrides (port 0), so nothing fixed is bound.
 */
class PosternJarIT {

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

  /** Runs the jar to completion; returns what it wrote on stdout and stderr. */
  private static String run(Path cwd, int expectedStatus, String... args) throws Exception {
    ProcessResult r = PosternJar.run(cwd, Map.of(), args);
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(expectedStatus);
    return r.stdout() + r.stderr();
  }

  @Test
  void versionShouldPrintTheProjectVersion() throws Exception {
    assertThat(run(work(), 0, "--version")).startsWith("postern 0.");
  }

  @Test
  void checkConfigShouldNameTheMissingCertificateAndPassInDemoMode() throws Exception {
    Path cwd = work();
    String out = run(cwd, 2, "--check-config");
    assertThat(out).contains("tls.certificates[0]: certificate file conf/tls/postern.crt does"
        + " not exist");
    out = run(cwd, 0, "--demo", "--check-config");
    assertThat(out).contains("configuration conf/postern.yaml is valid");
  }

  @Test
  void demoShouldServeTheDemoMailboxToCurlAndSayByeOnSigterm() throws Exception {
    try (PosternJar demo = demo(Map.of())) {
      assertThat(demo.output()).doesNotContain("SIGHUP was ignored");
      Map<String, Integer> ports = demo.listenerPorts();
      ProcessResult imaps = Clients.curl(Duration.ofSeconds(30), "-k", "-u", "demo:demo",
          "imaps://127.0.0.1:" + ports.get("imaps") + "/INBOX;UID=1");
      assertThat(imaps.exitCode()).as(imaps.toString()).isZero();
      assertThat(imaps.stdout()).contains("Subject: Welcome to Postern");
      ProcessResult imap = Clients.curl(Duration.ofSeconds(30), "-k", "--ssl-reqd",
          "-u", "demo:demo", "imap://127.0.0.1:" + ports.get("imap") + "/INBOX?ALL");
      assertThat(imap.stdout()).as(imap.toString()).contains("* SEARCH 1 2 3");
      ProcessResult pop3s = Clients.curl(Duration.ofSeconds(30), "-k", "-u", "demo:demo",
          "pop3s://127.0.0.1:" + ports.get("pop3s") + "/");
      assertThat(pop3s.stdout()).as(pop3s.toString()).startsWith("1 ");
      ProcessResult pop3 = Clients.curl(Duration.ofSeconds(30), "-k", "--ssl-reqd",
          "-u", "demo:demo", "pop3://127.0.0.1:" + ports.get("pop3") + "/1");
      assertThat(pop3.stdout()).as(pop3.toString()).contains("Subject: Welcome to Postern");
      // A plaintext login is refused: the password never crosses the wire in the clear.
      ProcessResult plain = Clients.curl(Duration.ofSeconds(30), "-u", "demo:demo",
          "imap://127.0.0.1:" + ports.get("imap") + "/INBOX");
      assertThat(plain.exitCode()).isEqualTo(67);

      // The README's admin lines: what those logins counted, and readiness.
      ProcessResult metrics = Clients.curl(Duration.ofSeconds(30), "-s",
          demo.adminUrl() + "/metrics");
      assertThat(metrics.stdout()).contains(
          "postern_logins_total{mechanism=\"plain\",protocol=\"imap\",result=\"success\"} 2.0",
          "postern_logins_total{mechanism=\"plain\",protocol=\"pop3\",result=\"success\"} 2.0");
      ProcessResult ready = Clients.curl(Duration.ofSeconds(30), "-s", "-w",
          "%{http_code}", demo.adminUrl() + "/health/ready");
      assertThat(ready.stdout()).contains("\"status\":\"ready\"").endsWith("200");

      try (Conversation waiting = MailClient.plain(ports.get("imap"), null)) {
        waiting.expect("* OK");
        demo.terminate();
        assertThat(waiting.readLine()).isEqualTo("* BYE [UNAVAILABLE] Server shutting down.");
      }
      assertThat(demo.awaitExit(Duration.ofSeconds(30))).contains("Postern stopping")
          .contains("result=shutdown").contains("listener=imaps").contains("user=demo");
    }
  }

  @Test
  void theJarWithTheJdkEngineShouldRefuseClientInitiatedRenegotiation() throws Exception {
    try (PosternJar demo = demo(Map.of("POSTERN_TLS__ENGINE", "jdk"))) {
      SClient.Renegotiation r = SClient.renegotiate(
          new SClient.Target("imaps", demo.listenerPorts().get("imaps"), null), "r NOOP");
      assertThat(r.attempted()).as(r.client()).isTrue();
      assertThat(r.completed()).as(r.client()).isFalse();
    }
  }

  @Test
  void aJarStartedUnderNohupShouldSaySighupWillNotReloadItAndReloadThroughTheAdminApi()
      throws Exception {
    Path token = Files.writeString(dir.resolve("admin.token"), "t0ken-for-this-test\n");
    try (PosternJar demo = demo(Map.of("POSTERN_ADMIN__TOKEN_FILE", token.toString()),
        PosternJar.HangUp.IGNORED)) {
      assertThat(demo.output()).contains("SIGHUP was ignored when Postern started (nohup?)");
      ProcessResult hangUp = ExternalCommand.run(List.of("kill", "-HUP", Long.toString(demo.pid())),
          Duration.ofSeconds(10));
      assertThat(hangUp.exitCode()).as(hangUp.toString()).isZero();
      ProcessResult reload = Clients.curl(Duration.ofSeconds(30), "-s", "-X", "POST",
          "-H", "Authorization: Bearer t0ken-for-this-test", demo.adminUrl() + "/api/reload");
      assertThat(reload.exitCode()).as(reload.toString()).isZero();
      // Reloads run one at a time, in the order asked: a SIGHUP taken would have come first.
      Awaitility.await().atMost(Duration.ofSeconds(30))
          .until(() -> demo.output().contains("configuration reloaded (admin API)"));
      assertThat(demo.output()).doesNotContain("(SIGHUP)");
    }
  }

  /**
   * {@code java -jar postern.jar --demo} in a copy of conf/, with every listener and the admin
   * endpoint moved to 127.0.0.1 on ports of the OS's choosing by environment overrides.
   */
  private PosternJar demo(Map<String, String> extraEnv) throws Exception {
    return demo(extraEnv, PosternJar.HangUp.DEFAULT);
  }

  private PosternJar demo(Map<String, String> extraEnv, PosternJar.HangUp hangUp)
      throws Exception {
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("POSTERN_ADMIN__PORT", "0");
    for (int i = 0; i < 4; i++) {
      env.put("POSTERN_LISTENERS__" + i + "__PORT", "0");
      env.put("POSTERN_LISTENERS__" + i + "__ADDRESS", "127.0.0.1");
    }
    return PosternJar.start(work(), env, 0, hangUp, "--demo");
  }
}
