package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.postern.config.CertificateFiles;
import io.postern.testing.CertificateSwap;
import io.postern.testing.LogCapture;
import io.postern.testing.MetricsReader;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ServedCertificate;
import io.postern.testing.ServedCertificate.Path;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Postern (embedded, two instances per listener) while its certificate files are replaced: new
 * handshakes on every listener get the new certificate, sessions already in TLS go on, a
 * broken pair is refused once and the old one kept.
 */
class CertificateReloadTest {

  private static final Duration DEADLINE = Duration.ofSeconds(15);
  private static final Map<String, Path> LISTENERS = Map.of("imaps", Path.IMPLICIT,
      "pop3s", Path.IMPLICIT, "imap", Path.IMAP_STARTTLS, "pop3", Path.POP3_STLS);

  @TempDir
  static java.nio.file.Path keys;

  @TempDir
  java.nio.file.Path dir;

  private static OpensslCertificates.Pair a;
  private static OpensslCertificates.Pair b;
  private static String serialA;
  private static String serialB;

  private PosternFixture postern;
  private LogCapture logs;
  private CertificateFiles files;

  @BeforeAll
  static void certificates() throws Exception {
    a = OpensslCertificates.localhost(keys, "a");
    b = OpensslCertificates.localhost(keys, "b");
    serialA = ServedCertificate.serial(a.cert());
    serialB = ServedCertificate.serial(b.cert());
  }

  @BeforeEach
  void start() throws Exception {
    logs = LogCapture.start();
    files = CertificateSwap.KUBERNETES.install(dir.resolve("secret"), a);
    postern = PosternFixture.builder(dir.resolve("postern"))
        .certificate(files.cert(), files.key())
        .watchInterval(Duration.ofMillis(100))
        .start();
  }

  @AfterEach
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    logs.stop();
  }

  @Test
  void aRenewedCertificateShouldServeNewHandshakesOnEveryListenerWhileSessionsGoOn()
      throws Exception {
    for (var listener : LISTENERS.entrySet()) {
      assertThat(ServedCertificate.serial(postern.port(listener.getKey()), listener.getValue()))
          .as(listener.getKey()).isEqualTo(serialA);
    }
    try (SSLSocket implicit = ServedCertificate.connect(postern.port("imaps"), Path.IMPLICIT,
            List.of());
        SSLSocket starttls = ServedCertificate.connect(postern.port("imap"),
            Path.IMAP_STARTTLS, List.of())) {
      BufferedReader implicitIn = reader(implicit);
      assertThat(implicitIn.readLine()).startsWith("* OK");

      CertificateSwap.KUBERNETES.replace(dir.resolve("secret"), b);

      await().atMost(DEADLINE).until(() ->
          ServedCertificate.serial(postern.port("imaps"), Path.IMPLICIT).equals(serialB));
      for (var listener : LISTENERS.entrySet()) {
        // Several connections: Vert.x spreads them over both instances of each listener.
        for (int i = 0; i < 4; i++) {
          assertThat(ServedCertificate.serial(postern.port(listener.getKey()),
              listener.getValue())).as(listener.getKey()).isEqualTo(serialB);
        }
      }
      // The sessions from before still talk, over the certificate they started with.
      assertThat(noop(implicit, implicitIn)).isEqualTo("n OK NOOP completed.");
      assertThat(noop(starttls, reader(starttls))).isEqualTo("n OK NOOP completed.");
      assertThat(ServedCertificate.serial(implicit)).isEqualTo(serialA);
    }
    // The cross-protocol guard still applies to the new certificate's handshakes.
    assertThatThrownBy(() -> ServedCertificate.connect(postern.port("imaps"), Path.IMPLICIT,
        List.of("http/1.1")).close()).isInstanceOf(SSLHandshakeException.class);

    assertThat(MetricsReader.value(postern, "postern_tls_reloads_total", "result", "applied"))
        .isEqualTo(1.0);
    assertThat(MetricsReader.value(postern, "postern_tls_reloads_total", "result", "refused"))
        .isZero();
    assertThat(MetricsReader.value(postern, "postern_tls_certificate_expiry_timestamp_seconds",
        "certificate", files.cert().toString())).isEqualTo((double) notAfter(b.cert()));
    assertThat(logs.lines()).filteredOn(l -> l.contains("certificates reloaded")).singleElement()
        .asString().contains(files.cert().toString(), "serial " + serialB, "not after");
  }

  @Test
  void aMismatchedPairShouldBeRefusedOnceAndTheOldOneKept() throws Exception {
    // B's certificate with A's key.
    CertificateSwap.KUBERNETES.replace(dir.resolve("secret"),
        new OpensslCertificates.Pair(b.cert(), a.key()));
    await().atMost(DEADLINE).until(() -> MetricsReader.value(postern,
        "postern_tls_reloads_total", "result", "refused") == 1.0);
    // More looks at the same files: nothing more is said or counted.
    CertificateReload reload = postern.server().certificateReload();
    for (int i = 0; i < 3; i++) {
      assertThat(reload.lookNow().await()).isFalse();
    }
    assertThat(MetricsReader.value(postern, "postern_tls_reloads_total", "result", "refused"))
        .isEqualTo(1.0);
    List<String> warnings = new ArrayList<>(logs.lines().stream()
        .filter(l -> l.contains("refused")).toList());
    assertThat(warnings).singleElement().asString()
        .contains(files.key().toString(), "is not the private key of", files.cert().toString())
        .doesNotContain("PRIVATE KEY", "BEGIN");
    for (var listener : LISTENERS.entrySet()) {
      assertThat(ServedCertificate.serial(postern.port(listener.getKey()), listener.getValue()))
          .as(listener.getKey()).isEqualTo(serialA);
    }
    assertThat(MetricsReader.value(postern, "postern_tls_certificate_expiry_timestamp_seconds",
        "certificate", files.cert().toString())).isEqualTo((double) notAfter(a.cert()));

    // Fixed: the right key arrives.
    CertificateSwap.KUBERNETES.replace(dir.resolve("secret"), b);
    await().atMost(DEADLINE).until(() ->
        ServedCertificate.serial(postern.port("imap"), Path.IMAP_STARTTLS).equals(serialB));
    // Counted once every listener has the new pair, which can be a moment after one serves it.
    await().atMost(DEADLINE).until(() -> MetricsReader.value(postern,
        "postern_tls_reloads_total", "result", "applied") == 1.0);
  }

  @Test
  void aCertificateFileThatIsNotPemShouldBeRefusedNamingTheFile() throws Exception {
    java.nio.file.Path garbage = keys.resolve("garbage.crt");
    Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\nnot base64\n");
    CertificateSwap.KUBERNETES.replace(dir.resolve("secret"),
        new OpensslCertificates.Pair(garbage, a.key()));
    await().atMost(DEADLINE).until(() -> MetricsReader.value(postern,
        "postern_tls_reloads_total", "result", "refused") == 1.0);
    assertThat(logs.lines()).filteredOn(l -> l.contains("refused")).singleElement().asString()
        .contains(files.cert() + " is not a PEM certificate chain");
    assertThat(ServedCertificate.serial(postern.port("imaps"), Path.IMPLICIT))
        .isEqualTo(serialA);
  }

  @Test
  void aBrokenTicketKeyFileShouldNeitherHoldBackARenewalNorKeepItsKey() throws Exception {
    java.nio.file.Path ticketKey = dir.resolve("ticket.key");
    Files.write(ticketKey, new byte[SessionTicketKeys.FILE_SIZE]);
    postern.close();
    postern = PosternFixture.builder(dir.resolve("postern2"))
        .certificate(files.cert(), files.key())
        .watchInterval(Duration.ofMillis(100))
        .ticketKeys(ticketKey)
        .start();
    // The operator empties the key file (retiring a leaked key) as the certificate is renewed.
    Files.write(ticketKey, new byte[0]);
    CertificateSwap.KUBERNETES.replace(dir.resolve("secret"), b);
    await().atMost(DEADLINE).until(() ->
        ServedCertificate.serial(postern.port("imaps"), Path.IMPLICIT).equals(serialB));
    await().atMost(DEADLINE).until(() -> logs.lines().stream()
        .anyMatch(l -> l.contains("a session ticket key is dropped")));
    assertThat(logs.lines()).filteredOn(l -> l.contains("dropped")).first().asString()
        .contains(ticketKey.toString(), "holds 0 bytes");
    await().atMost(DEADLINE).until(() -> logs.lines().stream()
        .anyMatch(l -> l.contains("no usable session ticket key file is left")));

    // Mended: the key comes back, the certificate stays.
    Files.write(ticketKey, new byte[SessionTicketKeys.FILE_SIZE]);
    await().atMost(DEADLINE).until(() -> logs.lines().stream()
        .anyMatch(l -> l.contains("session ticket keys reloaded, new tickets are encrypted with "
            + ticketKey)));
    assertThat(ServedCertificate.serial(postern.port("imaps"), Path.IMPLICIT)).isEqualTo(serialB);
  }

  private static BufferedReader reader(SSLSocket socket) throws Exception {
    return new BufferedReader(new InputStreamReader(socket.getInputStream(),
        StandardCharsets.ISO_8859_1));
  }

  private static String noop(SSLSocket socket, BufferedReader in) throws Exception {
    socket.getOutputStream().write("n NOOP\r\n".getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
    return in.readLine();
  }

  private static long notAfter(java.nio.file.Path pem) throws Exception {
    try (var in = Files.newInputStream(pem)) {
      return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in))
          .getNotAfter().toInstant().getEpochSecond();
    }
  }
}
