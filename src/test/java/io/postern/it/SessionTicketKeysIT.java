package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.OpensslCertificates;
import io.postern.testing.OpensslTool;
import io.postern.testing.ProcessResult;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two packaged Posterns sharing {@code tls.session-ticket-keys} files, as two instances behind
 * one load balancer would: a session ticket from one resumes on the other (openssl s_client
 * -sess_out / -sess_in), on TLS 1.3 and 1.2; after a rotation (new key first, old one second)
 * the old tickets still resume, and once the old key is gone they get a full handshake.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionTicketKeysIT {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final Pattern RESULT = Pattern.compile("(?m)^(New|Reused), (TLSv1\\.[23])");

  @TempDir
  static Path dir;

  private OpensslCertificates.Pair cert;
  /** live/current.key and live/previous.key, with live a symbolic link swapped at a rotation. */
  private Path live;
  private Path current;
  private Path previous;
  private int generation;

  @BeforeAll
  void files() throws Exception {
    RealParts.require("openssl");
    if (!OpenSSLEngineOptions.isAvailable()) {
      RealParts.missing("netty-tcnative (OpenSSL engine) cannot load on this platform");
    }
    cert = OpensslCertificates.localhost(dir, "cert");
    live = dir.resolve("live");
    current = live.resolve("current.key");
    previous = live.resolve("previous.key");
    Path first = Files.createDirectories(dir.resolve("keys-0"));
    Files.write(first.resolve("previous.key"), random(48));
    Files.write(first.resolve("current.key"), random(48));
    Files.createSymbolicLink(live, first.getFileName());
  }

  private static byte[] random(int length) {
    byte[] b = new byte[length];
    new SecureRandom().nextBytes(b);
    return b;
  }

  private Path config(String name, String engine) throws Exception {
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, "alice:{PLAIN}alice-pw\n");
    Path config = dir.resolve(name + ".yaml");
    Files.writeString(config, String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "  session-ticket-keys: [ '" + current + "', '" + previous + "' ]",
        "  engine: " + engine,
        "  watch-interval: 200ms",
        "auth: { passwd-file: '" + passwd + "' }",
        "limits: { trusted-networks: [ 127.0.0.1/32 ] }",
        "admin: { address: 127.0.0.1, port: 0 }",
        ""));
    return config;
  }

  @Test
  void ticketsResumeAcrossInstancesAndThroughARotation() throws Exception {
    Path a13 = dir.resolve("a13.session");
    Path a12 = dir.resolve("a12.session");
    // Each in its own directory: the jar's output file is per working directory.
    try (PosternJar a = PosternJar.start(Files.createDirectories(dir.resolve("a")), Map.of(),
            "--config", config("a", "auto").toString());
        PosternJar b = PosternJar.start(Files.createDirectories(dir.resolve("b")), Map.of(),
            "--config", config("b", "auto").toString())) {
      int portA = a.listenerPorts().get("imaps");
      int portB = b.listenerPorts().get("imaps");
      assertThat(a.output()).contains("tls: engine openssl (BoringSSL")
          .contains("session tickets with 2 shared key file(s)");

      assertThat(connect(portA, "-tls1_3", a13, null)).isEqualTo("New, TLSv1.3");
      assertThat(connect(portB, "-tls1_3", null, a13)).isEqualTo("Reused, TLSv1.3");
      assertThat(connect(portA, "-tls1_2", a12, null)).isEqualTo("New, TLSv1.2");
      assertThat(connect(portB, "-tls1_2", null, a12)).isEqualTo("Reused, TLSv1.2");

      // Rotation: the key in use becomes the previous one, a new one encrypts.
      rotate(a, b, 1);
      assertThat(connect(portB, "-tls1_3", null, a13)).isEqualTo("Reused, TLSv1.3");
      assertThat(connect(portA, "-tls1_2", null, a12)).isEqualTo("Reused, TLSv1.2");

      // The next rotation drops the key of those tickets: a full handshake, which still works.
      rotate(a, b, 2);
      assertThat(connect(portB, "-tls1_3", null, a13)).isEqualTo("New, TLSv1.3");
      assertThat(connect(portA, "-tls1_2", null, a12)).isEqualTo("New, TLSv1.2");
      assertThat(a.output() + b.output()).doesNotContain("ERROR");
    }
  }

  /**
   * previous := current, current := new random bytes, both at once (a symbolic link swapped,
   * as a Kubernetes Secret volume does), so that no look sees one file changed and not the
   * other; waits until both instances said they reloaded.
   */
  private void rotate(PosternJar a, PosternJar b, int rotations) throws Exception {
    Path next = Files.createDirectories(dir.resolve("keys-" + ++generation));
    Files.copy(current, next.resolve("previous.key"));
    Files.write(next.resolve("current.key"), random(48));
    Path link = dir.resolve("live.next");
    Files.createSymbolicLink(link, next.getFileName());
    Files.move(link, live, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    await().atMost(WAIT).until(() -> reloads(a) >= rotations && reloads(b) >= rotations);
    // The line names the files, never the bytes.
    assertThat(a.output()).contains("tls: session ticket keys reloaded, new tickets are"
        + " encrypted with " + current);
  }

  private static int reloads(PosternJar postern) throws Exception {
    return postern.output().split("session ticket keys reloaded", -1).length - 1;
  }

  /** One s_client connection that waits for the greeting (tickets come first) and logs out. */
  private static String connect(int port, String version, Path sessOut, Path sessIn)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("s_client", "-connect", "127.0.0.1:" + port,
        "-crlf", version));
    if (sessOut != null) {
      args.addAll(List.of("-sess_out", sessOut.toString()));
    }
    if (sessIn != null) {
      args.addAll(List.of("-sess_in", sessIn.toString()));
    }
    try (OpensslTool client = OpensslTool.start(args)) {
      assertThat(client.awaitStdout("* OK", WAIT)).as("%s", client.stderr()).isTrue();
      client.send("a LOGOUT");
      client.awaitStdout("a OK", WAIT);
      client.finish(WAIT);
      Matcher m = RESULT.matcher(client.stdout());
      return m.find() ? m.group(1) + ", " + m.group(2)
          : "no result: " + client.stdout() + client.stderr();
    }
  }

  @Test
  void theJdkEngineWithTicketKeysIsAConfigurationError() throws Exception {
    ProcessResult r = PosternJar.run(dir, Map.of(), "--config", config("jdk", "jdk").toString(),
        "--check-config");
    assertThat(r.exitCode()).as("%s", r).isEqualTo(2);
    assertThat(r.stderr() + r.stdout()).contains("tls.session-ticket-keys: needs the OpenSSL"
        + " engine");
  }
}
