package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -HUP} to the packaged jar in front of two real Dovecots, as {@code systemctl reload}
 * sends it: a valid new file moves new logins to the other server and adds a listener while a
 * session logged in before (in IDLE) keeps relaying to its server; an invalid file is refused,
 * logged and counted, and everything goes on as before.
 */
class ReloadIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  @Test
  void sighupShouldApplyAValidFileToNewSessionsAndRefuseAnInvalidOne() throws Exception {
    Map<String, String> users = new LinkedHashMap<>();
    users.put("alice", "pw-alice");
    OpensslCertificates.Pair cert = OpensslCertificates.localhost(dir, "postern");
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, PosternFixture.passwdLine("alice", "pw-alice", "") + "\n");
    try (DovecotServer a = DovecotServer.start(dir.resolve("dovecot-a"), users);
        DovecotServer b = DovecotServer.start(dir.resolve("dovecot-b"), users)) {
      // a holds one message, b two: a client's message count says which server it reached.
      a.deliver("alice", TestMessages.small());
      b.deliver("alice", TestMessages.small());
      b.deliver("alice", TestMessages.small());
      Path config = dir.resolve("postern.yaml");
      Files.writeString(config, config(cert, passwd, a, false));
      try (PosternJar postern = PosternJar.start(dir, Map.of(), "--config", config.toString())) {
        int imaps = postern.listenerPorts().get("imaps");
        assertThat(messages(imaps)).isEqualTo("* SEARCH 1");

        try (Conversation idle = MailClient.implicitTls(imaps, cert.cert())) {
          idle.expect("* OK");
          idle.send("a LOGIN alice pw-alice\r\n");
          idle.expect("a OK");
          idle.send("s SELECT INBOX\r\n");
          assertThat(idle.readUntil("s ")).contains("* 1 EXISTS");
          idle.send("i IDLE\r\n");
          idle.expect("+ ");

          // A valid file: backend default is now server b, and there is a POP3S listener.
          Files.writeString(config, config(cert, passwd, b, true));
          hangUp(postern);
          awaitLog(postern, "configuration reloaded (SIGHUP)");
          assertThat(postern.output()).contains("listener pop3s added");
          assertThat(messages(imaps)).as("a new login").isEqualTo("* SEARCH 1 2");
          int pop3s = postern.listenerPorts().get("pop3s");
          ProcessResult list = Clients.curl(WAIT, "-k", "-s", "-u", "alice:pw-alice",
              "pop3s://127.0.0.1:" + pop3s + "/");
          assertThat(list.stdout()).as(list.toString()).startsWith("1 ").contains("\n2 ");

          // An invalid file: refused with its error, nothing changes.
          Files.writeString(config, config(cert, passwd, a, true)
              .replace("max-bad-commands: 3", "max-bad-commands: lots"));
          hangUp(postern);
          awaitLog(postern, "configuration reload (SIGHUP) refused");
          assertThat(postern.output()).contains("limits.max-bad-commands");
          assertThat(messages(imaps)).as("still server b").isEqualTo("* SEARCH 1 2");
          String metrics = Clients.curl(WAIT, "-s", postern.adminUrl() + "/metrics").stdout();
          assertThat(metrics).contains(
              "postern_config_reloads_total{result=\"applied\"} 1.0",
              "postern_config_reloads_total{result=\"refused\"} 1.0",
              "postern_config_last_reload_successful 0.0");

          // The session from before both reloads still relays to server a.
          idle.send("DONE\r\n");
          idle.expect("i OK");
          idle.send("n STATUS INBOX (MESSAGES)\r\n");
          assertThat(idle.readUntil("n ")).contains("* STATUS INBOX (MESSAGES 1)");
        }
      }
    }
  }

  private static String config(OpensslCertificates.Pair cert, Path passwd, DovecotServer server,
      boolean withPop3s) {
    return String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        withPop3s ? "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0,"
            + " tls: implicit }" : "",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth: { passwd-file: '" + passwd + "', failure-delay: 100ms }",
        "backends:",
        "  default:",
        "    host: 127.0.0.1",
        "    imap: { port: " + server.imapPort() + ", tls: none }",
        "    pop3: { port: " + server.pop3Port() + ", tls: none }",
        "limits: { max-bad-commands: 3, connection-rate-per-ip: 0, handshake-rate-per-ip: 0 }",
        "admin: { address: 127.0.0.1, port: 0 }",
        "");
  }

  /** What a fresh login over IMAPS (curl) finds in INBOX. */
  private static String messages(int port) throws Exception {
    ProcessResult search = Clients.curl(WAIT, "-k", "-s", "-u", "alice:pw-alice",
        "imaps://127.0.0.1:" + port + "/INBOX?ALL");
    assertThat(search.exitCode()).as(search.toString()).isZero();
    return search.stdout().trim();
  }

  private static void hangUp(PosternJar postern) throws Exception {
    Process kill = new ProcessBuilder(List.of("kill", "-HUP", Long.toString(postern.pid())))
        .inheritIO().start();
    assertThat(kill.waitFor()).isZero();
  }

  private static void awaitLog(PosternJar postern, String text) throws Exception {
    try {
      Awaitility.await().atMost(WAIT).until(() -> postern.output().contains(text));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      // What Postern said instead is what tells a CI failure apart.
      throw new AssertionError("no '" + text + "' in Postern's output within " + WAIT + ":\n"
          + postern.output(), e);
    }
  }
}
