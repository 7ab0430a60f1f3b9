package io.postern.it;

import static io.postern.it.TestMessages.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Proves the test backend and the client runners against each other, with no proxy in between:
 * what a real client fetches from the real Dovecot is byte for byte what was delivered.
 */
@Timeout(300)
class DovecotHarnessIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(120);
  private static final String ALICE = "alice";
  private static final String ALICE_PASSWORD = "alice-Secret-1";
  private static final String BOB = "Bob.Smith@example.org";
  // Characters a naive config or command line would mangle; Dovecot must still verify it.
  private static final String BOB_PASSWORD = "b0b: p@ss w%rd\"'$";
  private static final int SMALL_UID = 1;
  private static final int BIG_UID = 2;

  @TempDir
  static Path temp;

  private static DovecotServer dovecot;
  private static byte[] small;
  private static byte[] big;

  @BeforeAll
  static void startDovecot() throws Exception {
    dovecot = DovecotServer.start(temp.resolve("dovecot"), Map.of(ALICE, ALICE_PASSWORD, BOB, BOB_PASSWORD));
    small = TestMessages.small();
    big = TestMessages.big();
    dovecot.deliver(ALICE, small);
    dovecot.deliver(ALICE, big);
    dovecot.deliver(BOB, small);
  }

  @AfterAll
  static void stopDovecot() {
    if (dovecot != null) {
      dovecot.close();
    }
  }

  @Test
  void certificateNamesLocalhostAndLoopbackAddress() throws Exception {
    X509Certificate certificate;
    try (InputStream in = Files.newInputStream(dovecot.certificate())) {
      certificate = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    assertThat(certificate.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
    assertThat(certificate.getSubjectAlternativeNames())
        .contains(List.of(2, "localhost"), List.of(7, "127.0.0.1"));
  }

  static Stream<Arguments> curlFetches() {
    List<Arguments> cases = new ArrayList<>();
    for (int uid : new int[] {SMALL_UID, BIG_UID}) {
      cases.add(Arguments.of("imap+STARTTLS", uid));
      cases.add(Arguments.of("imaps", uid));
      cases.add(Arguments.of("pop3+STLS", uid));
      cases.add(Arguments.of("pop3s", uid));
    }
    // Checks the DNS name in the certificate too; --resolve keeps the traffic on 127.0.0.1.
    cases.add(Arguments.of("imaps via localhost", SMALL_UID));
    return cases.stream();
  }

  /**
   * curl's IMAP fetch of {@code ;UID=n} writes the BODY[] literal, which Dovecot serves exactly as
   * stored. curl's POP3 RETR output is also the stored message exactly: curl removes the dot-stuffing
   * (the extra "." Dovecot puts before lines starting with ".") and the terminating ".CRLF", but keeps
   * the CRLF before it, which RFC 1939 counts as part of the message, and CRLF line ends as sent.
   * So every variant must hash like the delivered bytes; the messages contain lines starting with ".".
   */
  @ParameterizedTest(name = "curl {0} message {1}")
  @MethodSource("curlFetches")
  void curlFetchesTheStoredBytes(String variant, int uid) throws Exception {
    Path out = temp.resolve("curl-" + variant.replace(' ', '-') + "-" + uid + ".eml");
    List<String> args = new ArrayList<>(List.of("--cacert", dovecot.certificate().toString(),
        "-u", ALICE + ":" + ALICE_PASSWORD, "-o", out.toString()));
    args.addAll(curlTarget(variant, uid));

    ProcessResult result = Clients.curl(CLIENT_TIMEOUT, args.toArray(String[]::new));

    assertThat(result.exitCode()).as("curl %s: %s%nDovecot log:%n%s", variant, result, dovecot.logText()).isZero();
    byte[] expected = uid == SMALL_UID ? small : big;
    assertThat(Files.size(out)).as("size of %s", out).isEqualTo(expected.length);
    assertThat(sha256(Files.readAllBytes(out))).isEqualTo(sha256(expected));
    Files.delete(out);
  }

  static Stream<Arguments> pythonFetches() {
    return Stream.of(
        Arguments.of("imap_client.py", "none", "login"),
        Arguments.of("imap_client.py", "starttls", "login"),
        Arguments.of("imap_client.py", "implicit", "plain"),
        Arguments.of("pop3_client.py", "none", "user"),
        Arguments.of("pop3_client.py", "starttls", "user"),
        Arguments.of("pop3_client.py", "implicit", "plain"));
  }

  @ParameterizedTest(name = "{0} --tls {1} --mech {2}")
  @MethodSource("pythonFetches")
  void pythonFetchesTheStoredBytes(String script, String tls, String mech) throws Exception {
    boolean imap = script.startsWith("imap");
    Path out = temp.resolve(script + "-" + tls + ".eml");

    ProcessResult result = Clients.python(CLIENT_TIMEOUT, script,
        "--host", "127.0.0.1", "--port", String.valueOf(port(imap, tls)), "--tls", tls,
        "--cafile", dovecot.certificate().toString(), "--user", ALICE, "--password", ALICE_PASSWORD,
        "--mech", mech, imap ? "--fetch-uid" : "--retr", String.valueOf(BIG_UID), "--out", out.toString());

    assertThat(result.exitCode()).as("%s: %s%nDovecot log:%n%s", script, result, dovecot.logText()).isZero();
    JsonObject json = new JsonObject(result.stdout());
    assertThat(json.getString("login")).isEqualTo("ok");
    assertThat(json.getInteger("exists")).isEqualTo(2);
    if (tls.equals("none")) {
      assertThat(json.getString("tls_version")).isNull();
    } else {
      assertThat(json.getString("tls_version")).isIn("TLSv1.2", "TLSv1.3");
    }
    assertThat(json.getLong("size")).isEqualTo(big.length);
    assertThat(json.getString("sha256")).isEqualTo(sha256(big));
    assertThat(sha256(Files.readAllBytes(out))).isEqualTo(sha256(big));
    Files.delete(out);
  }

  @Test
  void eachUserSeesOnlyTheirOwnMailAndOddPasswordsWork() throws Exception {
    ProcessResult result = Clients.python(CLIENT_TIMEOUT, "pop3_client.py",
        "--port", String.valueOf(dovecot.pop3sPort()), "--tls", "implicit", "--cafile", dovecot.certificate().toString(),
        "--user", BOB, "--password", BOB_PASSWORD, "--retr", "1");

    assertThat(result.exitCode()).as("%s%nDovecot log:%n%s", result, dovecot.logText()).isZero();
    JsonObject json = new JsonObject(result.stdout());
    assertThat(json.getInteger("exists")).isEqualTo(1);
    assertThat(json.getString("sha256")).isEqualTo(sha256(small));
  }

  @ParameterizedTest(name = "curl {0}")
  @MethodSource("io.postern.it.DovecotHarnessIT#curlVariants")
  void curlIsRefusedAWrongPassword(String variant) throws Exception {
    List<String> args = new ArrayList<>(List.of("--cacert", dovecot.certificate().toString(),
        "-u", ALICE + ":wrong-password", "-o", "/dev/null"));
    args.addAll(curlTarget(variant, SMALL_UID));

    ProcessResult result = Clients.curl(CLIENT_TIMEOUT, args.toArray(String[]::new));

    // 67 is CURLE_LOGIN_DENIED: the server said no, as opposed to a TLS or connection problem.
    assertThat(result.exitCode()).as("%s", result).isEqualTo(67);
  }

  static Stream<String> curlVariants() {
    return Stream.of("imap+STARTTLS", "imaps", "pop3+STLS", "pop3s");
  }

  @ParameterizedTest(name = "{0} --tls {1}")
  @MethodSource("pythonFetches")
  void pythonIsRefusedAWrongPassword(String script, String tls, String mech) throws Exception {
    boolean imap = script.startsWith("imap");

    ProcessResult result = Clients.python(CLIENT_TIMEOUT, script,
        "--port", String.valueOf(port(imap, tls)), "--tls", tls, "--cafile", dovecot.certificate().toString(),
        "--user", ALICE, "--password", "wrong-password", "--mech", mech, "--expect-login-failure");

    assertThat(result.exitCode()).as("%s", result).isZero();
    assertThat(new JsonObject(result.stdout()).getString("login")).isEqualTo("failed");
    assertThat(dovecot.logText()).contains("Password mismatch");
  }

  @Test
  void stopsAndRestartsOnTheSamePortsWithTheSameMail() throws Exception {
    Path dir = temp.resolve("restartable");
    DovecotServer server = DovecotServer.start(dir, Map.of("carol", "carol-pw"));
    try {
      List<Integer> ports = List.of(server.imapPort(), server.imapsPort(), server.pop3Port(), server.pop3sPort());
      assertThat(ports).doesNotHaveDuplicates().doesNotContain(dovecot.imapPort(), dovecot.pop3Port());
      server.deliver("carol", small);

      server.stop();
      for (int port : ports) {
        assertThatThrownBy(() -> greeting(port)).as("port %d after stop()", port).isInstanceOf(ConnectException.class);
      }

      server.restart();
      assertThat(List.of(server.imapPort(), server.imapsPort(), server.pop3Port(), server.pop3sPort())).isEqualTo(ports);
      assertThat(greeting(server.imapPort())).startsWith("* OK");
      assertThat(greeting(server.pop3Port())).startsWith("+OK");
      Path out = dir.resolve("after-restart.eml");
      ProcessResult result = Clients.curl(CLIENT_TIMEOUT, "--ssl-reqd", "--cacert", server.certificate().toString(),
          "-u", "carol:carol-pw", "-o", out.toString(), "imap://127.0.0.1:" + server.imapPort() + "/INBOX;UID=1");
      assertThat(result.exitCode()).as("%s", result).isZero();
      assertThat(sha256(Files.readAllBytes(out))).isEqualTo(sha256(small));
    } finally {
      server.close();
    }
    // close() leaves no listener behind and cleans its directory.
    assertThatThrownBy(() -> greeting(server.imapPort())).isInstanceOf(ConnectException.class);
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }

  private static List<String> curlTarget(String variant, int uid) {
    String host = "127.0.0.1";
    return switch (variant) {
      case "imap+STARTTLS" -> List.of("--ssl-reqd", "imap://" + host + ":" + dovecot.imapPort() + "/INBOX;UID=" + uid);
      case "imaps" -> List.of("imaps://" + host + ":" + dovecot.imapsPort() + "/INBOX;UID=" + uid);
      case "pop3+STLS" -> List.of("--ssl-reqd", "pop3://" + host + ":" + dovecot.pop3Port() + "/" + uid);
      case "pop3s" -> List.of("pop3s://" + host + ":" + dovecot.pop3sPort() + "/" + uid);
      case "imaps via localhost" -> List.of("--resolve", "localhost:" + dovecot.imapsPort() + ":127.0.0.1",
          "imaps://localhost:" + dovecot.imapsPort() + "/INBOX;UID=" + uid);
      default -> throw new IllegalArgumentException(variant);
    };
  }

  private static int port(boolean imap, String tls) {
    boolean implicit = tls.equals("implicit");
    if (imap) {
      return implicit ? dovecot.imapsPort() : dovecot.imapPort();
    }
    return implicit ? dovecot.pop3sPort() : dovecot.pop3Port();
  }

  /** The first line a server sends on {@code port}. */
  private static String greeting(int port) throws IOException {
    try (Conversation c = MailClient.plain(port, null)) {
      return c.readLine();
    }
  }
}
