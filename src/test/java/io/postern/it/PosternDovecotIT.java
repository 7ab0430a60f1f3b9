package io.postern.it;

import static io.postern.it.TestMessages.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsMode;
import io.postern.testing.Conversation;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients (curl, Python's imaplib and poplib) through Postern to a real Dovecot, over every
 * client-side TLS path and every backend TLS mode. Users: alice on the plaintext backend, bob on
 * the STARTTLS backend, carol on the implicit-TLS backend (both verified against Dovecot's cert).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PosternDovecotIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(120);
  private static final Map<String, String> USERS =
      Map.of("alice", "alice pw: \"quoted\" \\ 8-bit é", "bob", "bob-pw", "carol", "carol-pw");

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private PosternFixture postern;
  private OpensslCertificates.Pair cert;
  private LogCapture logs;
  private byte[] small;
  private byte[] big;

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    RealParts.require("python3");
    logs = LogCapture.start();
    dovecot = DovecotServer.start(dir.resolve("dovecot"), USERS);
    small = TestMessages.small();
    big = TestMessages.big();
    for (String user : USERS.keySet()) {
      dovecot.deliver(user, small);
    }
    dovecot.deliver("alice", big);
    cert = OpensslCertificates.localhost(Files.createDirectories(dir.resolve("tls")), "postern");
    postern = PosternFixture.builder(dir.resolve("postern"))
        .certificate(cert.cert(), cert.key())
        .backend("default", "127.0.0.1", dovecot.imapPort(), TlsMode.NONE, dovecot.pop3Port(),
            TlsMode.NONE, true, null)
        .backend("starttls", "127.0.0.1", dovecot.imapPort(), TlsMode.STARTTLS,
            dovecot.pop3Port(), TlsMode.STARTTLS, true, dovecot.certificate())
        .backend("implicit", "localhost", dovecot.imapsPort(), TlsMode.IMPLICIT,
            dovecot.pop3sPort(), TlsMode.IMPLICIT, true, dovecot.certificate())
        .user("alice", USERS.get("alice"))
        .passwdLine(PosternFixture.passwdLine("bob", USERS.get("bob"), "backend=starttls"))
        .passwdLine(PosternFixture.passwdLine("carol", USERS.get("carol"), "backend=implicit"))
        .backendTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10))
        .failureDelay(Duration.ofMillis(200))
        .start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
    if (logs != null) {
      logs.stop();
    }
  }

  private ProcessResult curl(String user, String url, Path out, String... extra)
      throws Exception {
    String[] args = new String[extra.length + 6];
    System.arraycopy(extra, 0, args, 0, extra.length);
    System.arraycopy(new String[] {"--cacert", cert.cert().toString(), "-u",
        user + ":" + USERS.get(user), "-o", out.toString()}, 0, args, extra.length, 6);
    String[] all = new String[args.length + 1];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = url;
    return Clients.curl(CLIENT_TIMEOUT, all);
  }

  @Test
  @Order(1)
  void curlShouldFetchTheSameBytesOverEveryClientTlsPath() throws Exception {
    String[][] cases = {
        {"imap://127.0.0.1:" + postern.port("imap") + "/INBOX;UID=1", "--ssl-reqd"},
        {"imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX;UID=1", null},
        {"pop3://127.0.0.1:" + postern.port("pop3") + "/1", "--ssl-reqd"},
        {"pop3s://127.0.0.1:" + postern.port("pop3s") + "/1", null}};
    for (String user : USERS.keySet()) {
      for (String[] c : cases) {
        Path out = dir.resolve("curl-" + user + ".eml");
        ProcessResult r = c[1] == null ? curl(user, c[0], out) : curl(user, c[0], out, c[1]);
        assertThat(r.exitCode()).as("%s %s: %s", user, c[0], r).isZero();
        assertThat(sha256(Files.readAllBytes(out))).as("%s %s", user, c[0])
            .isEqualTo(sha256(small));
      }
    }
  }

  @Test
  @Order(2)
  void aMessageOver64MiBShouldArriveByteForByteAsDovecotServesItDirectly() throws Exception {
    Path direct = dir.resolve("direct.eml");
    ProcessResult r = Clients.curl(CLIENT_TIMEOUT, "-u", "alice:" + USERS.get("alice"),
        "-o", direct.toString(), "imap://127.0.0.1:" + dovecot.imapPort() + "/INBOX;UID=2");
    assertThat(r.exitCode()).as("direct fetch: %s", r).isZero();
    String expected = sha256(Files.readAllBytes(direct));
    assertThat(expected).isEqualTo(sha256(big));
    assertThat(Files.size(direct)).isGreaterThan(64L << 20);

    Path viaImap = dir.resolve("via-imaps.eml");
    r = curl("alice", "imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX;UID=2", viaImap);
    assertThat(r.exitCode()).as("through Postern: %s", r).isZero();
    assertThat(sha256(Files.readAllBytes(viaImap))).isEqualTo(expected);

    Path viaPop3 = dir.resolve("via-pop3.eml");
    r = curl("alice", "pop3://127.0.0.1:" + postern.port("pop3") + "/2", viaPop3, "--ssl-reqd");
    assertThat(r.exitCode()).as("through Postern: %s", r).isZero();
    assertThat(sha256(Files.readAllBytes(viaPop3))).isEqualTo(expected);
  }

  @Test
  @Order(3)
  void pythonClientsShouldLogInAndFetchOverStartTlsAndImplicitTls() throws Exception {
    for (String user : USERS.keySet()) {
      for (String[] path : new String[][] {{"imap", "starttls"}, {"imaps", "implicit"}}) {
        Path out = dir.resolve("py-imap.eml");
        ProcessResult r = Clients.python(CLIENT_TIMEOUT, "imap_client.py",
            "--host", "127.0.0.1", "--port", String.valueOf(postern.port(path[0])),
            "--tls", path[1], "--cafile", cert.cert().toString(), "--user", user,
            "--password", USERS.get(user), "--fetch-uid", "1", "--out", out.toString(),
            // imaplib's LOGIN cannot send non-ASCII; its AUTHENTICATE PLAIN can.
            "--mech", user.equals("alice") ? "plain" : "login");
        JsonObject result = new JsonObject(r.stdout().trim());
        assertThat(r.exitCode()).as("%s over %s: %s", user, path[0], r).isZero();
        assertThat(result.getString("login")).isEqualTo("ok");
        assertThat(result.getString("sha256")).isEqualTo(sha256(small));
      }
      for (String[] path : new String[][] {{"pop3", "starttls"}, {"pop3s", "implicit"}}) {
        Path out = dir.resolve("py-pop3.eml");
        ProcessResult r = Clients.python(CLIENT_TIMEOUT, "pop3_client.py",
            "--host", "127.0.0.1", "--port", String.valueOf(postern.port(path[0])),
            "--tls", path[1], "--cafile", cert.cert().toString(), "--user", user,
            "--password", USERS.get(user), "--retr", "1", "--out", out.toString());
        JsonObject result = new JsonObject(r.stdout().trim());
        assertThat(r.exitCode()).as("%s over %s: %s", user, path[0], r).isZero();
        assertThat(result.getString("sha256")).isEqualTo(sha256(small));
      }
    }
  }

  @Test
  @Order(4)
  void wrongPasswordsShouldFailForEveryClient() throws Exception {
    ProcessResult r = Clients.curl(CLIENT_TIMEOUT, "--cacert", cert.cert().toString(),
        "-u", "alice:wrong", "imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX");
    assertThat(r.exitCode()).as("%s", r).isEqualTo(67);
    r = Clients.python(CLIENT_TIMEOUT, "imap_client.py", "--port",
        String.valueOf(postern.port("imap")), "--tls", "starttls", "--cafile",
        cert.cert().toString(), "--user", "bob", "--password", "wrong",
        "--expect-login-failure");
    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(new JsonObject(r.stdout().trim()).getString("login")).isEqualTo("failed");
    r = Clients.python(CLIENT_TIMEOUT, "pop3_client.py", "--port",
        String.valueOf(postern.port("pop3s")), "--tls", "implicit", "--cafile",
        cert.cert().toString(), "--user", "carol", "--password", "wrong",
        "--expect-login-failure");
    assertThat(r.exitCode()).as("%s", r).isZero();
  }

  @Test
  @Order(5)
  void logsShouldHoldOneLinePerSessionAndNeverAPassword() {
    assertThat(logs.lines()).anyMatch(l -> l.contains("listener=imaps")
        && l.contains("tls=TLSv1.3") && l.contains("user=carol") && l.contains("backend=implicit")
        && l.contains("result=ended_by_"));
    assertThat(logs.lines()).anyMatch(l -> l.contains("login failed") && l.contains("user=bob"));
    for (String password : USERS.values()) {
      assertThat(logs.lines()).noneMatch(l -> l.contains(password));
      String plain = Base64.getEncoder().encodeToString(("\0alice\0" + password)
          .getBytes(StandardCharsets.UTF_8));
      assertThat(logs.lines()).noneMatch(l -> l.contains(plain));
    }
  }

  @Test
  @Order(10)
  void aStoppedBackendShouldGiveTemporaryFailuresAndRecoverWhenItIsBack() throws Exception {
    dovecot.stop();
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), cert.cert())) {
      c.expect("* OK");
      c.send("a LOGIN bob bob-pw\r\n");
      assertThat(c.readLine()).startsWith("a NO [UNAVAILABLE]");
    }
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), cert.cert())) {
      c.expect("+OK");
      c.send("USER carol\r\nPASS carol-pw\r\n");
      c.expect("+OK");
      assertThat(c.readLine()).startsWith("-ERR [SYS/TEMP]");
    }
    dovecot.restart();
    try (Conversation c = MailClient.implicitTls(postern.port("imaps"), cert.cert())) {
      c.expect("* OK");
      c.send("a LOGIN bob bob-pw\r\n");
      assertThat(c.readLine()).startsWith("a OK [CAPABILITY");
    }
  }
}
