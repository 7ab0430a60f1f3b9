package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.CertificateFiles;
import io.postern.testing.CertificateSwap;
import io.postern.testing.MetricsReader;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ServedCertificate;
import io.postern.testing.ServedCertificate.Path;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The packaged jar in front of a real Dovecot while its certificate is renewed each way real
 * tools renew one (certbot, a rename, a Kubernetes Secret, a rewrite in place), with an IMAPS
 * session and an IDLE session (STARTTLS) logged in: new handshakes on an implicit and a STARTTLS
 * listener get the new certificate, the sessions go on, and a mismatched pair is refused with
 * the renewed one kept.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CertificateReloadIT {

  private static final String PASSWORD = "alice-pw";
  private static final Duration DEADLINE = Duration.ofSeconds(20);

  @TempDir
  static java.nio.file.Path dir;

  private DovecotServer dovecot;
  private OpensslCertificates.Pair first;
  private OpensslCertificates.Pair renewed;
  private OpensslCertificates.Pair other;

  @BeforeAll
  void start() throws Exception {
    dovecot = DovecotServer.start(dir.resolve("dovecot"), Map.of("alice", PASSWORD));
    dovecot.deliver("alice", message("before"));
    java.nio.file.Path keys = Files.createDirectories(dir.resolve("keys"));
    first = OpensslCertificates.localhost(keys, "first");
    renewed = OpensslCertificates.localhost(keys, "renewed");
    other = OpensslCertificates.localhost(keys, "other");
  }

  @AfterAll
  void stop() {
    if (dovecot != null) {
      dovecot.close();
    }
  }

  @ParameterizedTest
  @EnumSource(CertificateSwap.class)
  void aRenewedCertificateShouldReachNewHandshakesWhileSessionsGoOn(CertificateSwap way)
      throws Exception {
    java.nio.file.Path run = Files.createDirectories(dir.resolve(way.name().toLowerCase()));
    java.nio.file.Path tls = run.resolve("tls");
    CertificateFiles files = way.install(tls, first);

    try (PosternJar postern = PosternJar.start(run, Map.of(), "--config",
            config(run, files).toString());
        Imap imaps = Imap.login(postern.listenerPorts().get("imaps"), Path.IMPLICIT);
        Imap idling = Imap.login(postern.listenerPorts().get("imap"), Path.IMAP_STARTTLS)) {
      try {
        renew(way, tls, postern, imaps, idling);
      } catch (AssertionError | Exception e) {
        System.out.println("Postern's output:\n" + postern.output());
        throw e;
      }
    }
  }

  private void renew(CertificateSwap way, java.nio.file.Path tls, PosternJar postern,
      Imap imaps, Imap idling) throws Exception {
    String firstSerial = ServedCertificate.serial(first.cert());
    String renewedSerial = ServedCertificate.serial(renewed.cert());
    {
      Map<String, Integer> ports = postern.listenerPorts();
      assertThat(imaps.serial()).isEqualTo(firstSerial);
      idling.command("s SELECT INBOX");
      idling.send("i IDLE");
      assertThat(idling.line()).startsWith("+");

      long start = System.nanoTime();
      way.replace(tls, renewed);
      Awaitility.await().atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() ->
          ServedCertificate.serial(ports.get("imaps"), Path.IMPLICIT).equals(renewedSerial));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(ServedCertificate.serial(ports.get("imap"), Path.IMAP_STARTTLS))
          .isEqualTo(renewedSerial);
      assertThat(ServedCertificate.serial(ports.get("pop3s"), Path.IMPLICIT))
          .isEqualTo(renewedSerial);
      assertThat(ServedCertificate.serial(ports.get("pop3"), Path.POP3_STLS))
          .isEqualTo(renewedSerial);
      System.out.printf("%s: new handshakes had the renewed certificate %.2fs after the"
          + " swap (watch-interval 200ms)%n", way, seconds);

      // The sessions from before: on their first certificate, still relaying to Dovecot.
      assertThat(imaps.serial()).isEqualTo(firstSerial);
      assertThat(imaps.command("n NOOP")).startsWith("n OK");
      dovecot.deliver("alice", message("during IDLE, after the swap"));
      assertThat(idling.lineMatching("\\* \\d+ EXISTS")).isNotNull();
      idling.send("DONE");
      assertThat(idling.lineMatching("i .*")).startsWith("i OK");
      assertThat(idling.command("n NOOP")).startsWith("n OK");
      assertThat(MetricsReader.value(postern.adminUrl(), "postern_tls_reloads_total",
          "result", "applied")).isEqualTo(1.0);

      // A certificate without its key (another pair's certificate): refused, renewed kept.
      way.replace(tls, new OpensslCertificates.Pair(other.cert(), renewed.key()));
      Awaitility.await().atMost(DEADLINE).until(() -> MetricsReader.value(postern.adminUrl(),
          "postern_tls_reloads_total", "result", "refused") == 1.0);
      assertThat(ServedCertificate.serial(ports.get("imaps"), Path.IMPLICIT))
          .isEqualTo(renewedSerial);
      assertThat(ServedCertificate.serial(ports.get("imap"), Path.IMAP_STARTTLS))
          .isEqualTo(renewedSerial);
      assertThat(imaps.command("n NOOP")).startsWith("n OK");

      String out = postern.output();
      assertThat(out.lines().filter(l -> l.contains("certificates reloaded")))
          .singleElement().asString().contains("serial " + renewedSerial);
      assertThat(out.lines().filter(l -> l.contains("certificate files refused")))
          .singleElement().asString().contains("is not the private key of")
          .doesNotContain("PRIVATE KEY");
      imaps.command("z LOGOUT");
      idling.command("z LOGOUT");
    }
  }

  private java.nio.file.Path config(java.nio.file.Path run, CertificateFiles files)
      throws IOException {
    java.nio.file.Path passwd = run.resolve("users.passwd");
    Files.writeString(passwd, PosternFixture.passwdLine("alice", PASSWORD, "") + "\n");
    java.nio.file.Path config = run.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "listeners:",
        "  - { name: imap,  protocol: imap, address: 127.0.0.1, port: 0, tls: starttls }",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3,  protocol: pop3, address: 127.0.0.1, port: 0, tls: starttls }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + files.cert() + "', key: '" + files.key() + "' } ]",
        "  watch-interval: 200ms",
        "auth: { passwd-file: '" + passwd + "', failure-delay: 100ms }",
        "backends:",
        "  default:",
        "    host: 127.0.0.1",
        "    imap: { port: " + dovecot.imapPort() + ", tls: none }",
        "    pop3: { port: " + dovecot.pop3Port() + ", tls: none }",
        // The test connects again and again from 127.0.0.1: exempt it from the per-address rates.
        "limits: { trusted-networks: [ 127.0.0.1/32 ] }",
        "admin: { address: 127.0.0.1, port: 0 }",
        ""));
    return config;
  }

  private static byte[] message(String subject) {
    return ("From: a@example.net\r\nTo: alice@example.net\r\nSubject: " + subject
        + "\r\n\r\nbody\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /** One IMAP client session through Postern, logged in as alice. */
  private static final class Imap implements AutoCloseable {
    private final SSLSocket socket;
    private final BufferedReader in;

    private Imap(SSLSocket socket) throws IOException {
      this.socket = socket;
      this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.ISO_8859_1));
    }

    static Imap login(int port, Path path) throws IOException {
      Imap imap = new Imap(ServedCertificate.connect(port, path, List.of()));
      if (path == Path.IMPLICIT) {
        assertThat(imap.line()).startsWith("* OK");
      }
      assertThat(imap.command("l LOGIN alice " + PASSWORD)).startsWith("l OK");
      return imap;
    }

    String serial() throws IOException {
      return ServedCertificate.serial(socket);
    }

    void send(String line) throws IOException {
      socket.getOutputStream().write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
    }

    String line() throws IOException {
      String line = in.readLine();
      if (line == null) {
        throw new IOException("connection closed");
      }
      return line;
    }

    /** Reads until a line matching {@code regex}; returns it. */
    String lineMatching(String regex) throws IOException {
      while (true) {
        String line = line();
        if (line.matches(regex)) {
          return line;
        }
      }
    }

    /** Sends a tagged command; returns its tagged answer. */
    String command(String command) throws IOException {
      send(command);
      String tag = command.substring(0, command.indexOf(' '));
      return lineMatching(java.util.regex.Pattern.quote(tag) + " .*");
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
