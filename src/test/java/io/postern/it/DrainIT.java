package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to the packaged jar in front of a real Dovecot, as systemd or Kubernetes sends it:
 * logged-in sessions are ended spread over {@code limits.drain-window}, each IMAP client seeing
 * {@code * BYE [UNAVAILABLE]} after the backend's last complete response (never inside a
 * literal), and each session line saying {@code result=shutdown}.
 */
class DrainIT {

  private static final TestTls TLS = TestTls.shared("localhost");
  private static final String BYE = "* BYE [UNAVAILABLE] Server shutting down.";
  private static final Pattern LITERAL = Pattern.compile("\\{(\\d+)\\}$");

  @TempDir
  Path dir;

  private Path config(DovecotServer dovecot, String grace, String window) throws IOException {
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, "alice:{PLAIN}alice-pw\n");
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls: { certificates: [ { cert: '" + TLS.certPath() + "', key: '" + TLS.keyPath()
            + "' } ] }",
        "auth:",
        "  passwd-file: '" + passwd + "'",
        "  throttle: { max-in-flight-per-address: 100, max-in-flight-per-user: 100 }",
        "backends:",
        "  default: { host: 127.0.0.1, imap: { port: " + dovecot.imapPort() + " } }",
        "limits: { max-connections-per-ip: 2000, connection-rate-per-ip: 0,"
            + " handshake-rate-per-ip: 0, shutdown-grace: " + grace + ", drain-window: "
            + window + " }",
        "admin: { address: 127.0.0.1, port: 0 }",
        ""));
    return config;
  }

  private static Conversation loggedIn(int port) throws IOException {
    Conversation c = MailClient.implicitTls(port, TLS);
    c.expect("* OK");
    c.send("a LOGIN alice alice-pw\r\n");
    c.readUntil("a OK");
    return c;
  }

  @Test
  void sigtermShouldEndThreeHundredIdleSessionsSpreadOverTheWindow() throws Exception {
    int sessions = 300;
    long windowMillis = 10_000;
    try (DovecotServer dovecot = DovecotServer.start(dir.resolve("dovecot"),
            Map.of("alice", "alice-pw"), "service imap {\n  process_limit = 1024\n}\n");
        PosternJar postern = PosternJar.start(dir, Map.of(), "--config",
            config(dovecot, "20s", "10s").toString())) {
      int port = postern.listenerPorts().get("imaps");
      ExecutorService logins = Executors.newFixedThreadPool(8);
      ExecutorService readers = Executors.newFixedThreadPool(sessions);
      List<Conversation> clients = new ArrayList<>();
      try {
        List<Future<Conversation>> started = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
          started.add(logins.submit(() -> {
            Conversation c = loggedIn(port);
            c.send("i IDLE\r\n");
            c.expect("+ ");
            return c;
          }));
        }
        for (Future<Conversation> f : started) {
          clients.add(f.get(120, TimeUnit.SECONDS));
        }
        long sigterm = System.nanoTime();
        postern.terminate();
        List<Future<long[]>> ends = new ArrayList<>();
        for (Conversation c : clients) {
          ends.add(readers.submit(() -> {
            // Whole untagged responses (Dovecot's "* OK Still here" every 2 minutes of IDLE),
            // then the BYE, then the close.
            String line = c.readLine();
            while (!line.equals(BYE)) {
              assertThat(line).startsWith("* ").doesNotStartWith("* BYE");
              line = c.readLine();
            }
            long bye = (System.nanoTime() - sigterm) / 1_000_000;
            assertThat(c.closedByPeer(30_000)).isTrue();
            long closed = (System.nanoTime() - sigterm) / 1_000_000;
            return new long[] {bye, closed};
          }));
        }
        List<Long> byes = new ArrayList<>();
        long lastClose = 0;
        for (Future<long[]> f : ends) {
          long[] t = f.get(60, TimeUnit.SECONDS);
          byes.add(t[0]);
          lastClose = Math.max(lastClose, t[1]);
        }
        byes.sort(null);
        int[] perSecond = new int[(int) (byes.get(byes.size() - 1) / 1000) + 1];
        byes.forEach(ms -> perSecond[(int) (ms / 1000)]++);
        String figures = String.format("drain of %d IDLE sessions over %d ms: BYE first %d ms,"
                + " p10 %d, p50 %d, p90 %d, last %d ms; last close %d ms; per second %s",
            sessions, windowMillis, byes.get(0), pct(byes, 10), pct(byes, 50), pct(byes, 90),
            byes.get(byes.size() - 1), lastClose, java.util.Arrays.toString(perSecond));
        System.out.println(figures);
        Files.writeString(Path.of("target", "drain-figures.txt"), figures + "\n",
            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        assertThat(byes.get(0)).as(figures).isLessThan(1500);
        assertThat(byes.get(byes.size() - 1)).as(figures)
            .isBetween(windowMillis * 8 / 10, windowMillis + 3000);
        assertThat(pct(byes, 50)).as(figures)
            .isBetween(windowMillis * 3 / 10, windowMillis * 7 / 10);
        for (int n : perSecond) {
          // Evenly: 30 a second; never a third of them at once.
          assertThat(n).as(figures).isLessThanOrEqualTo(60);
        }
        // The clients close their ends too, as mail clients do after a BYE: else Postern, which
        // has said everything, would still give each until the end of the grace to do so.
        for (Conversation c : clients) {
          c.close();
        }
        String out = postern.awaitExit(Duration.ofSeconds(40));
        Matcher lines = Pattern.compile("session=\\S+ .*user=alice .*result=(\\S+)")
            .matcher(out);
        List<String> results = new ArrayList<>();
        while (lines.find()) {
          results.add(lines.group(1));
        }
        assertThat(results).hasSize(sessions).containsOnly("shutdown");
      } finally {
        logins.shutdownNow();
        readers.shutdownNow();
        for (Conversation c : clients) {
          c.close();
        }
      }
    }
  }

  @Test
  void sigtermDuringALargeFetchShouldSayByeOnlyAfterTheWholeLiteral() throws Exception {
    byte[] big = TestMessages.big();
    try (DovecotServer dovecot = DovecotServer.start(dir.resolve("dovecot"),
            Map.of("alice", "alice-pw"));
        PosternJar postern = PosternJar.start(dir, Map.of(), "--config",
            config(dovecot, "30s", "0s").toString());
        Conversation alice = loggedIn(postern.listenerPorts().get("imaps"))) {
      dovecot.deliver("alice", big);
      alice.send("s SELECT INBOX\r\n");
      alice.readUntil("s OK");
      alice.send("f UID FETCH 1 BODY.PEEK[]\r\n");
      String head = alice.readLine();
      Matcher literal = LITERAL.matcher(head);
      assertThat(literal.find()).as(head).isTrue();
      int size = Integer.parseInt(literal.group(1));
      assertThat(size).isEqualTo(big.length);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      int first = 1 << 20;
      sha.update(alice.readBytes(first));
      // The client stops reading: Postern holds the backend back, mid-literal, at SIGTERM.
      postern.terminate();
      await().atMost(Duration.ofSeconds(20)).until(() ->
          postern.output().contains("ending 1 sessions"));
      InputStream in = alice.socket().getInputStream();
      byte[] buf = new byte[1 << 16];
      int left = size - first;
      while (left > 0) {
        int n = in.read(buf, 0, Math.min(buf.length, left));
        assertThat(n).as("literal cut with %d bytes left", left).isPositive();
        sha.update(buf, 0, n);
        left -= n;
      }
      assertThat(HexFormat.of().formatHex(sha.digest()))
          .isEqualTo(TestMessages.sha256(big));
      assertThat(alice.readLine()).isEqualTo(")");
      assertThat(alice.readLine()).isEqualTo(BYE);
      assertThat(alice.closedByPeer(30_000)).isTrue();
      alice.close();
      String out = postern.awaitExit(Duration.ofSeconds(40));
      assertThat(out).containsPattern("user=alice .*result=shutdown");
    }
  }

  private static long pct(List<Long> sorted, int p) {
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
  }
}
