package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.ProcessResult;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar under a small open-file limit ({@code ulimit -n}), flooded with silent
 * connections from many addresses: a configuration the limit cannot hold is refused with the
 * fix, {@code max-connections: auto} fits the limit, the flood is refused before descriptors
 * run out, a logged-in session goes on, another address is served, and "Too many open files"
 * never appears.
 */
class OpenFileLimitIT {

  private static final int OPEN_FILES = 400;
  private static final Pattern AUTO = Pattern.compile("limits.max-connections: auto is (\\d+)");
  private static final TestTls TLS = TestTls.shared("localhost");
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir
  Path dir;

  private final List<Socket> flood = new ArrayList<>();

  @AfterEach
  void closeFlood() throws IOException {
    for (Socket s : flood) {
      s.close();
    }
  }

  private Path config(FakeBackend backend, String maxConnections) throws IOException {
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, "alice:{PLAIN}secret\n");
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls: { certificates: [ { cert: '" + TLS.certPath() + "', key: '" + TLS.keyPath()
            + "' } ] }",
        "auth: { passwd-file: '" + passwd + "' }",
        "backends:",
        "  default: { host: 127.0.0.1, imap: { port: " + backend.port() + " } }",
        // The rates are the subject of other tests: here one address may open its 60 at once.
        "limits: { max-connections: " + maxConnections + ", max-connections-per-ip: 60,"
            + " connection-rate-per-ip: 0, handshake-rate-per-ip: 0, descriptor-reserve: 64,"
            + " handshake-timeout: 60s }",
        "admin: { address: 127.0.0.1, port: 0 }",
        ""));
    return config;
  }

  @Test
  void floodsShouldMeetTheLimitsLongBeforeTheOpenFileLimit() throws Exception {
    try (FakeBackend backend = FakeBackend.start(BackendScripts.imap("IMAP4rev1", "alice",
        "secret", BackendScripts.imapCommands("alice")), TLS)) {
      ProcessResult check = PosternJar.run(dir, Map.of(), OPEN_FILES, "--config",
          config(backend, "1000").toString(), "--check-config");
      assertThat(check.exitCode()).as("%s", check).isEqualTo(2);
      assertThat(check.stderr()).contains("limits.max-connections: 1000 connections may need"
          + " 2000 open files").contains("the open-file limit is " + OPEN_FILES)
          .contains("LimitNOFILE").containsPattern("lower limits.max-connections to \\d+");

      try (PosternJar postern = PosternJar.start(dir, Map.of(), OPEN_FILES, "--config",
          config(backend, "auto").toString())) {
        Matcher auto = AUTO.matcher(postern.output());
        assertThat(auto.find()).as(postern.output()).isTrue();
        int max = Integer.parseInt(auto.group(1));
        assertThat(max).isBetween(50, OPEN_FILES / 2);
        int imaps = postern.listenerPorts().get("imaps");
        int pop3s = postern.listenerPorts().get("pop3s");

        try (Conversation alice = MailClient.implicitTlsFrom("127.0.0.9", imaps, TLS)) {
          alice.expect("* OK");
          alice.send("a LOGIN alice secret\r\n");
          alice.expect("a OK");

          // One address: its 60, then refused at once; others are served.
          floodFrom("127.0.0.1", imaps, 100);
          awaitRejected(postern, "imaps", "per_ip", 40);
          greeted("127.0.0.2", pop3s);
          alice.send("b NOOP\r\n");
          alice.expect("b OK");

          // Six more addresses: max-connections, long before the open-file limit.
          for (int a = 3; a <= 8; a++) {
            floodFrom("127.0.0." + a, imaps, 60);
          }
          // Held: alice and every flood connection up to max; the rest refused (one more if
          // the greeted client's slot is not back yet).
          int refused = 60 + 360 + 1 - max;
          await().atMost(Duration.ofSeconds(30)).until(() -> rejected(postern, "max_connections")
              >= refused);
          assertThat(rejected(postern, "max_connections")).isBetween((double) refused,
              refused + 1.0);
          double open = metric(postern, "process_files_open_files");
          assertThat(open).as("descriptors in use").isLessThan(OPEN_FILES - 32);
          alice.send("c NOOP\r\n");
          alice.expect("c OK");
          try (Socket late = new Socket()) {
            late.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
            int first;
            try {
              late.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), pop3s));
              late.setSoTimeout(5000);
              first = late.getInputStream().read();
            } catch (java.net.SocketException reset) {
              first = -1;
            }
            assertThat(first).as("max-connections reached: refused at once").isEqualTo(-1);
          }

          // The flood goes away: its slots come back.
          closeFlood();
          flood.clear();
          await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> greeted("127.0.0.2", pop3s));
          try (Conversation again = MailClient.implicitTlsFrom("127.0.0.10", imaps, TLS)) {
            again.expect("* OK");
            again.send("a LOGIN alice secret\r\n");
            again.expect("a OK");
          }
          alice.send("d LOGOUT\r\n");
          alice.expect("* BYE");
        }
        assertThat(postern.output()).doesNotContain("Too many open files")
            .doesNotContain("accepting failed");
      }
    }
  }

  private void floodFrom(String address, int port, int count) throws IOException {
    for (int i = 0; i < count; i++) {
      Socket s = new Socket();
      flood.add(s);
      s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
      try {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
      } catch (java.net.SocketException reset) {
        // Refused at once, so fast that the connect call saw it: counted by the metrics.
      }
    }
  }

  private static void greeted(String from, int pop3s) throws IOException {
    try (Conversation c = MailClient.implicitTlsFrom(from, pop3s, TLS)) {
      c.expect("+OK");
    }
  }

  private static void awaitRejected(PosternJar postern, String listener, String reason,
      double count) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(metric(postern,
        "postern_connections_rejected_total{listener=\"" + listener + "\",reason=\"" + reason
            + "\"}")).isEqualTo(count));
  }

  private static double rejected(PosternJar postern, String reason) throws Exception {
    return metric(postern, "postern_connections_rejected_total{listener=\"imaps\",reason=\""
        + reason + "\"}");
  }

  /** One series' value from /metrics, e.g. {@code process_files_open_files}. */
  private static double metric(PosternJar postern, String series) throws Exception {
    String body = HTTP.send(HttpRequest.newBuilder(URI.create(postern.adminUrl() + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    for (String line : body.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    throw new AssertionError("no " + series + " in /metrics");
  }
}
