package io.postern;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.TestHashes;
import io.postern.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line's answers when something is wrong (start-up success is in PosternJarIT). */
class PosternCliTest {

  @TempDir
  Path dir;

  private record Run(int status, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Postern.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  private Path config(String listenerPort, String extra) throws Exception {
    TestTls tls = TestTls.shared("localhost");
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, "alice:{PLAIN}secret\n");
    Path file = dir.resolve("postern.yaml");
    Files.writeString(file, """
        listeners:
          - { name: imaps, protocol: imap, address: 127.0.0.1, port: %s, tls: implicit }
        tls: { certificates: [ { cert: %s, key: %s } ] }
        auth: { passwd-file: %s }
        %s
        """.formatted(listenerPort, tls.certPath(), tls.keyPath(), passwd, extra));
    return file;
  }

  @Test
  void versionShouldPrintTheVersion() {
    Run r = run("--version");
    assertThat(r.status()).isZero();
    assertThat(r.out()).matches("postern \\S+\\R");
  }

  @Test
  void anUnknownOptionShouldPrintUsageAndExit2() {
    Run r = run("--frobnicate");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("unknown option --frobnicate").contains("usage:");
  }

  @Test
  void checkConfigShouldAcceptAGoodConfigurationWithoutBinding() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      // --check-config never binds, so a port in use does not matter.
      Run r = run("--config", config(String.valueOf(taken.getLocalPort()), "").toString(),
          "--check-config");
      assertThat(r.err()).isEmpty();
      assertThat(r.status()).isZero();
      assertThat(r.out()).contains("is valid (1 listener, 1 backend, 1 user)")
          .containsPattern("up to \\d+ connections \\(limits.max-connections\\)");
    }
  }

  @Test
  void moreConnectionsThanTheOpenFileLimitHoldsShouldBeRefusedWithTheFix() throws Exception {
    Run r = run("--config", config("0", "limits: { max-connections: 9000000 }").toString(),
        "--check-config");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("limits.max-connections: 9000000 connections may need 18000000"
        + " open files").contains("LimitNOFILE").containsPattern(
        "or lower limits.max-connections to \\d+");
  }

  @Test
  void checkConfigShouldListEveryProblemWithItsKeyAndExit2() throws Exception {
    Path file = config("0", "backends: { default: { host: 127.0.0.1, ca: /nonexistent/ca.pem } }");
    Files.writeString(dir.resolve("users.passwd"), "alice:{PLAIN}secret\nbroken\n");
    Run r = run("--config", file.toString(), "--check-config");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("backends.default.ca: cannot read CA file /nonexistent/ca.pem");

    Files.writeString(file, Files.readString(file).replace("ca: /nonexistent/ca.pem", ""));
    r = run("--config", file.toString(), "--check-config");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("auth.passwd-file: " + dir.resolve("users.passwd") + ":2: ");
  }

  @Test
  void checkConfigShouldCountAPoolsServersAndNameTheKeyOfAMistakeInIt() throws Exception {
    Path file = config("0", """
        backends:
          default: { servers: [ { host: 10.0.0.5 }, { host: 10.0.0.6, weight: 2 } ] }
          old: { host: 10.0.0.9 }
        """);
    Run r = run("--config", file.toString(), "--check-config");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("is valid (1 listener, 2 backends with 3 servers, 1 user)");

    Files.writeString(file, Files.readString(file).replace("weight: 2", "weight: 0"));
    r = run("--config", file.toString(), "--check-config");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("backends.default.servers[1].weight: must be between 1 and 100"
        + " (is 0)");
  }

  @Test
  void checkConfigShouldWarnAboutHashesTheLimitsCannotAfford() throws Exception {
    Path file = config("0", "");
    Path passwd = dir.resolve("users.passwd");
    // Dovecot's ARGON2ID takes 64 MiB, over a 32 MiB budget; 50000 SHA-512 rounds take longer
    // than a 5 ms failure delay; PLAIN fits.
    Files.writeString(passwd, "alice:{PLAIN}secret\n"
        + TestHashes.line("argon", TestHashes.argon2id("x", 64 * 1024, 1)) + "\n"
        + TestHashes.line("sha", "{SHA512-CRYPT}" + org.apache.commons.codec.digest.Crypt.crypt(
            "y", "$6$rounds=50000$salt")) + "\n");
    Files.writeString(file, Files.readString(file).replace("auth: { passwd-file: ",
        "auth: { failure-delay: 5ms, hashing: { max-memory: 32MiB }, passwd-file: "));
    Run r = run("--config", file.toString(), "--check-config");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("is valid (1 listener, 1 backend, 3 users)");
    assertThat(r.err().lines().toList()).hasSize(2);
    assertThat(r.err()).contains("postern: warning: auth.hashing.max-memory: " + passwd
        + " line 2: ARGON2ID m=65536,t=1,p=1 needs 64 MiB per check, more than the 32 MiB"
        + " allowed: these users cannot log in (temporary failure)");
    assertThat(r.err()).containsPattern("postern: warning: auth.failure-delay: "
        + java.util.regex.Pattern.quote(passwd + " line 3: SHA512-CRYPT rounds=50000 takes ")
        + "\\d+ ms per check, longer than failure-delay \\(5ms\\)");
  }

  @Test
  void aMissingCertificateShouldBeNamed() throws Exception {
    Path file = config("0", "");
    Files.writeString(file, Files.readString(file)
        .replace(TestTls.shared("localhost").certPath().toString(), "/nonexistent/x.crt"));
    Run r = run("--config", file.toString(), "--check-config");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains(
        "tls.certificates[0]: certificate file /nonexistent/x.crt does not exist");
  }

  @Test
  void aPortInUseShouldStopStartUpNamingTheListenerAndTheFix() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Path file = config("0", "");
      Files.writeString(file, Files.readString(file).replace("tls: implicit }", "tls: implicit }\n"
          + "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: "
          + taken.getLocalPort() + ", tls: implicit }"));
      Run r = run("--config", file.toString());
      assertThat(r.status()).isEqualTo(1);
      assertThat(r.err()).isEqualTo("postern: listener 'pop3s' cannot listen on 127.0.0.1:"
          + taken.getLocalPort() + ": Address already in use; another process already listens"
          + " there (another mail server or Postern?): stop it, or change listeners[1].port"
          + System.lineSeparator());
    }
  }
}
