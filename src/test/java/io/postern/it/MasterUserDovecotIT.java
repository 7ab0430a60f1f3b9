package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Master users through the packaged jar to a real Dovecot with a master passdb: support staff
 * log in as {@code alice*support} with support's password (checked by Postern against its own
 * master file), and Postern opens alice's mailbox at Dovecot as its backend master user
 * {@code postern-master} (AUTHENTICATE PLAIN / AUTH PLAIN with alice as the authorization
 * identity), which only Dovecot's master passdb knows. Python's imaplib and poplib are the
 * clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MasterUserDovecotIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final String BACKEND_MASTER_PW = "backend-master-pw";

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private PosternJar postern;
  private OpensslCertificates.Pair cert;
  private Path dovecotMasterFile;
  private Path backendMasterPass;

  @BeforeAll
  void start() throws Exception {
    RealParts.require("python3");
    Map<String, String> users = new LinkedHashMap<>();
    users.put("alice", "alice-pw");
    users.put("bob", "bob-pw");
    // Dovecot's master passdb: Postern's backend master user, nobody else. Outside Dovecot's
    // own directory (which must start empty), readable by its auth process.
    Path dovecotMasters = Files.createDirectories(dir.resolve("dovecot-masters"));
    Files.setPosixFilePermissions(dovecotMasters, PosixFilePermissions.fromString("rwxr-xr-x"));
    dovecotMasterFile = dovecotMasters.resolve("masters");
    Files.writeString(dovecotMasterFile, "postern-master:{PLAIN}" + BACKEND_MASTER_PW + "\n");
    Files.setPosixFilePermissions(dovecotMasterFile, PosixFilePermissions.fromString("rw-r--r--"));
    dovecot = DovecotServer.start(dir.resolve("dovecot"), users, String.join("\n",
        "",
        "auth_master_user_separator = *",
        "passdb {",
        "  driver = passwd-file",
        "  master = yes",
        "  args = " + dovecotMasterFile,
        "  # The customer must exist in the normal passdb too.",
        "  result_success = continue",
        "}",
        ""));
    dovecot.deliver("alice", TestMessages.small());
    dovecot.deliver("alice", TestMessages.small());
    dovecot.deliver("bob", TestMessages.small());

    cert = OpensslCertificates.localhost(Files.createDirectories(dir.resolve("tls")), "postern");
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, String.join("\n",
        PosternFixture.passwdLine("alice", "alice-pw", ""),
        PosternFixture.passwdLine("bob", "bob-pw", ""),
        PosternFixture.passwdLine("carol", "carol-pw", "backend=nomaster"),
        PosternFixture.passwdLine("dave", "dave-pw", "nologin reason=Closed"), ""));
    Path masters = dir.resolve("masters.passwd");
    Files.writeString(masters, PosternFixture.passwdLine("support", "support-pw", "") + "\n");
    backendMasterPass = dir.resolve("backend-master.pass");
    Files.writeString(backendMasterPass, BACKEND_MASTER_PW + "\n");
    Files.setPosixFilePermissions(backendMasterPass, PosixFilePermissions.fromString("rw-------"));
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth:",
        "  passwd-file: '" + passwd + "'",
        "  failure-delay: 100ms",
        "  throttle: { initial-delay: 0s, max-delay: 0s }",
        "  master: { separator: '*', passwd-file: '" + masters + "' }",
        "backends:",
        "  default:",
        "    host: 127.0.0.1",
        "    imap: { port: " + dovecot.imapPort() + ", tls: none }",
        "    pop3: { port: " + dovecot.pop3Port() + ", tls: none }",
        "    master: { user: postern-master, password-file: '" + backendMasterPass + "' }",
        "  nomaster:",
        "    host: 127.0.0.1",
        "    imap: { port: " + dovecot.imapPort() + ", tls: none }",
        "    pop3: { port: " + dovecot.pop3Port() + ", tls: none }",
        "limits: { connection-rate-per-ip: 0, handshake-rate-per-ip: 0 }",
        "admin: { address: 127.0.0.1, port: 0 }",
        ""));
    postern = PosternJar.start(dir, Map.of(), "--config", config.toString());
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
  }

  private JsonObject imap(String user, String password, String... extra) throws Exception {
    return client("imap_client.py", "imaps", user, password, extra);
  }

  private JsonObject pop3(String user, String password, String... extra) throws Exception {
    return client("pop3_client.py", "pop3s", user, password, extra);
  }

  private JsonObject client(String script, String listener, String user, String password,
      String... extra) throws Exception {
    String[] args = new String[10 + extra.length];
    System.arraycopy(new String[] {"--port", String.valueOf(postern.listenerPorts().get(listener)),
        "--tls", "implicit", "--cafile", cert.cert().toString(), "--user", user, "--password",
        password}, 0, args, 0, 10);
    System.arraycopy(extra, 0, args, 10, extra.length);
    ProcessResult r = Clients.python(CLIENT_TIMEOUT, script, args);
    return new JsonObject(r.stdout().strip());
  }

  @Test
  @Order(1)
  void supportShouldReadAlicesMailboxWithTheMastersPasswordOverImapAndPop3() throws Exception {
    JsonObject login = imap("alice*support", "support-pw");
    assertThat(login.getString("login")).as("%s\n%s", login, dovecot.logText()).isEqualTo("ok");
    assertThat(login.getInteger("exists")).as("alice's INBOX").isEqualTo(2);
    JsonObject plain = imap("alice*support", "support-pw", "--mech", "plain");
    assertThat(plain.getInteger("exists")).as(plain.toString()).isEqualTo(2);
    JsonObject pop = pop3("alice*support", "support-pw");
    assertThat(pop.getString("login")).as(pop.toString()).isEqualTo("ok");
    assertThat(pop.getInteger("exists")).as("alice's maildrop").isEqualTo(2);
    // Another customer, in a raw session: bob's mailbox, as bob.
    try (Conversation c = MailClient.implicitTls(postern.listenerPorts().get("imaps"),
        cert.cert())) {
      c.expect("* OK");
      c.send("a LOGIN \"bob*support\" support-pw\r\n");
      c.expect("a OK");
      c.send("b STATUS INBOX (MESSAGES)\r\n");
      assertThat(c.readUntil("b OK")).contains("* STATUS INBOX (MESSAGES 1)");
    }

    awaitOutput("customer=bob master=support");
    String output = postern.output();
    assertThat(output).containsPattern("master login: session=\\S+ listener=imaps"
            + " client=127.0.0.1 customer=alice master=support mechanism=LOGIN backend=default")
        .containsPattern("master login: session=\\S+ listener=pop3s"
            + " client=127.0.0.1 customer=alice master=support")
        .doesNotContain("support-pw").doesNotContain(BACKEND_MASTER_PW);
    // Dovecot saw its master user (postern-master, from Postern's password file) open alice's
    // mailbox: support is known to Postern only.
    assertThat(dovecot.logText()).contains("Master user logging in as alice")
        .contains("Master user logging in as bob").doesNotContain("support");
    // The session's line names who logged in.
    assertThat(output).containsPattern("user=\"?alice\\*support\"? backend=default");
  }

  @Test
  @Order(2)
  void aWrongMasterPasswordOrAnUnknownCustomerShouldBeRefused() throws Exception {
    JsonObject wrong = imap("alice*support", "alice-pw", "--expect-login-failure");
    assertThat(wrong.getString("login")).as(wrong.toString()).isEqualTo("failed");
    assertThat(wrong.getString("error")).contains("AUTHENTICATIONFAILED");
    JsonObject unknown = imap("mallory*support", "support-pw", "--expect-login-failure");
    assertThat(unknown.getString("login")).as(unknown.toString()).isEqualTo("failed");
    assertThat(unknown.getString("error")).contains("AUTHENTICATIONFAILED");
    JsonObject popWrong = pop3("alice*support", "wrong", "--expect-login-failure");
    assertThat(popWrong.getString("login")).as(popWrong.toString()).isEqualTo("failed");
    try (Conversation c = MailClient.implicitTls(postern.listenerPorts().get("imaps"),
        cert.cert())) {
      c.expect("* OK");
      // A disabled customer: the account's own reply.
      c.send("a LOGIN \"dave*support\" support-pw\r\n");
      assertThat(c.expect("a NO")).contains("Closed");
      // A backend without a master user: refused as a configuration problem, not a password.
      c.send("b LOGIN \"carol*support\" support-pw\r\n");
      assertThat(c.expect("b NO")).contains("[UNAVAILABLE]");
    }

    awaitOutput("backends.nomaster.master");
    assertThat(postern.output())
        .containsPattern("master login failed: session=\\S+ listener=imaps client=127.0.0.1"
            + " customer=alice master=support mechanism=LOGIN backend=- reason=\"bad credentials"
            + " \\(passwd-file: master"
            + " 'support' unknown or wrong master password\\)\"")
        .contains("customer=mallory master=support")
        .contains("unknown customer 'mallory'");
    String metrics = Clients.curl(CLIENT_TIMEOUT, "-s", postern.adminUrl() + "/metrics").stdout();
    assertThat(metrics).contains("postern_master_logins_total{result=\"failure\"}");
  }

  @Test
  @Order(3)
  void aReloadShouldTakeTheBackendsRotatedMasterPassword() throws Exception {
    assertThat(imap("alice*support", "support-pw").getInteger("exists")).isEqualTo(2);
    // Rotated at Dovecot and in Postern's file; SIGHUP reads the file again.
    Files.writeString(dovecotMasterFile, "postern-master:{PLAIN}rotated-pw\n");
    Files.writeString(backendMasterPass, "rotated-pw\n");
    // Dovecot looks at a passwd-file again at most once a second (db-passwd-file.c compares
    // last_sync_time with ioloop_time): a login within the second of the one above would still
    // meet the old master password there, whatever Postern sends.
    long rotatedAt = Instant.now().getEpochSecond();
    Awaitility.await().atMost(Duration.ofSeconds(3))
        .until(() -> Instant.now().getEpochSecond() > rotatedAt);
    Process kill = new ProcessBuilder(List.of("kill", "-HUP", Long.toString(postern.pid())))
        .inheritIO().start();
    assertThat(kill.waitFor()).isZero();
    awaitOutput("configuration reloaded (SIGHUP)");

    // The login cached before the reload held the old password: the cache was emptied.
    JsonObject login = imap("alice*support", "support-pw");
    assertThat(login.getInteger("exists")).as("%s\n%s", login, postern.output()).isEqualTo(2);
    assertThat(postern.output()).doesNotContain("rotated-pw");
  }

  private void awaitOutput(String text) throws Exception {
    try {
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> postern.output()
          .contains(text));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("no '" + text + "' in Postern's output:\n" + postern.output(), e);
    }
  }
}
