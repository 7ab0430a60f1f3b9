package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.backend.HashRing;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API of the packaged jar in front of two real Dovecots, driven with curl as an
 * operator would: a server drain moves new logins to the other server and an undrain brings them
 * back, a reload through the API applies a valid file and refuses an invalid one, an instance
 * drain stops the listeners, and nothing changes without the token.
 */
class AdminApiIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String TOKEN = "c0ffee0123456789abcdef0123456789";

  @TempDir
  Path dir;

  @Test
  void anOperatorShouldDrainAServerReloadAndDrainTheInstanceWithTheToken() throws Exception {
    OpensslCertificates.Pair cert = OpensslCertificates.localhost(dir, "postern");
    Path passwd = dir.resolve("users.passwd");
    Files.writeString(passwd, PosternFixture.passwdLine("alice", "pw-alice", "") + "\n");
    Path token = dir.resolve("admin.token");
    Files.writeString(token, TOKEN + "\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    // alice's own server and the next on her ring; the message count says which one answered.
    List<String> names = List.of("imap-a", "imap-b");
    String own = names.get(new HashRing(names, List.of(1, 1)).first("alice", s -> true));
    String other = own.equals("imap-a") ? "imap-b" : "imap-a";
    Map<String, String> users = Map.of("alice", "pw-alice");
    try (DovecotServer a = DovecotServer.start(dir.resolve("dovecot-a"), users);
        DovecotServer b = DovecotServer.start(dir.resolve("dovecot-b"), users)) {
      a.deliver("alice", TestMessages.small());
      b.deliver("alice", TestMessages.small());
      b.deliver("alice", TestMessages.small());
      String atOwn = own.equals("imap-a") ? "* SEARCH 1" : "* SEARCH 1 2";
      String atOther = own.equals("imap-a") ? "* SEARCH 1 2" : "* SEARCH 1";
      Path config = dir.resolve("postern.yaml");
      Files.writeString(config, config(cert, passwd, token, a, b, 3));
      try (PosternJar postern = PosternJar.start(dir, Map.of(), "--config", config.toString())) {
        int imaps = postern.listenerPorts().get("imaps");
        String api = postern.adminUrl() + "/api";
        assertThat(messages(imaps)).isEqualTo(atOwn);

        // Without the token, or with a wrong one: refused, and nothing is drained.
        assertThat(curl("POST", api + "/servers/drain?server=" + own, null).status)
            .isEqualTo(401);
        assertThat(curl("POST", api + "/servers/drain?server=" + own, "nope").status)
            .isEqualTo(401);
        assertThat(messages(imaps)).isEqualTo(atOwn);

        Answer drained = curl("POST", api + "/servers/drain?server=" + own, TOKEN);
        assertThat(drained.status).as(drained.body.encode()).isEqualTo(200);
        assertThat(drained.body.getJsonArray("servers").getString(0)).isEqualTo("default/" + own);
        assertThat(messages(imaps)).as("a new login avoids the drained server")
            .isEqualTo(atOther);
        assertThat(Clients.curl(WAIT, "-s", postern.adminUrl() + "/metrics").stdout())
            .contains("postern_backend_drained{backend=\"default\",server=\"" + own + "\"} 1.0");
        assertThat(Clients.curl(WAIT, "-s", postern.adminUrl() + "/health/ready").stdout())
            .contains("\"" + own + "\":\"drained 127.0.0.1:");
        assertThat(curl("POST", api + "/servers/undrain?server=default/" + own, TOKEN).status)
            .isEqualTo(200);
        assertThat(messages(imaps)).as("and comes back once undrained").isEqualTo(atOwn);
        assertThat(postern.output())
            .contains("admin: drain-server server=" + own + " servers=default/" + own
                + " sessions=0 from=127.0.0.1")
            .contains("admin: drain-server server=" + own + " refused=401")
            .doesNotContain(TOKEN);

        // Reload through the API: a valid file is applied, an invalid one refused with its error.
        Files.writeString(config, config(cert, passwd, token, a, b, 4));
        Answer applied = curl("POST", api + "/reload", TOKEN);
        assertThat(applied.status).as(applied.body.encode()).isEqualTo(200);
        assertThat(applied.body.getBoolean("applied")).isTrue();
        assertThat(applied.body.getJsonArray("changes").encode()).contains("limits changed");
        Files.writeString(config, config(cert, passwd, token, a, b, 4)
            .replace("max-bad-commands: 4", "max-bad-commands: lots"));
        Answer refused = curl("POST", api + "/reload", TOKEN);
        assertThat(refused.status).isEqualTo(409);
        assertThat(refused.body.getBoolean("applied")).isFalse();
        assertThat(refused.body.getJsonArray("errors").encode())
            .contains("limits.max-bad-commands");
        assertThat(postern.output()).contains("configuration reloaded (admin API)")
            .contains("configuration reload (admin API) refused");
        assertThat(messages(imaps)).as("still serving").isEqualTo(atOwn);

        // The instance: not ready at once, no new connections, the process stays for its admin.
        assertThat(curl("POST", api + "/drain", null).status).isEqualTo(401);
        Answer draining = curl("POST", api + "/drain", TOKEN);
        assertThat(draining.status).as(draining.body.encode()).isEqualTo(200);
        assertThat(draining.body.getBoolean("draining")).isTrue();
        ProcessResult ready = Clients.curl(WAIT, "-s", "-o", "/dev/null", "-w", "%{http_code}",
            postern.adminUrl() + "/health/ready");
        assertThat(ready.stdout()).isEqualTo("503");
        Awaitility.await().atMost(WAIT).until(() -> refuses(imaps));
        assertThat(postern.output()).contains("admin: drain sessions=0 from=127.0.0.1");
      }
    }
  }

  private record Answer(int status, JsonObject body) {}

  /** One API call with curl, as the README shows it. */
  private static Answer curl(String method, String url, String token) throws Exception {
    ProcessResult r = token == null
        ? Clients.curl(WAIT, "-s", "-X", method, "-w", "\n%{http_code}", url)
        : Clients.curl(WAIT, "-s", "-X", method, "-H", "Authorization: Bearer " + token,
            "-w", "\n%{http_code}", url);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    String out = r.stdout().strip();
    int cut = out.lastIndexOf('\n');
    return new Answer(Integer.parseInt(out.substring(cut + 1)),
        new JsonObject(out.substring(0, cut)));
  }

  private static boolean refuses(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static String config(OpensslCertificates.Pair cert, Path passwd, Path token,
      DovecotServer a, DovecotServer b, int maxBadCommands) {
    return String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth: { passwd-file: '" + passwd + "', failure-delay: 100ms }",
        "backends:",
        "  default:",
        "    servers:",
        "      - { name: imap-a, host: 127.0.0.1, imap-port: " + a.imapPort() + " }",
        "      - { name: imap-b, host: 127.0.0.1, imap-port: " + b.imapPort() + " }",
        "    imap: { port: 143, tls: none }",
        "    pop3: { port: 110, tls: none }",
        "limits: { max-bad-commands: " + maxBadCommands + ", connection-rate-per-ip: 0,"
            + " handshake-rate-per-ip: 0 }",
        "admin: { address: 127.0.0.1, port: 0, token-file: '" + token + "' }",
        "");
  }

  /** What a fresh login over IMAPS (curl) finds in INBOX. */
  private static String messages(int port) throws Exception {
    ProcessResult search = Clients.curl(WAIT, "-k", "-s", "-u", "alice:pw-alice",
        "imaps://127.0.0.1:" + port + "/INBOX?ALL");
    assertThat(search.exitCode()).as(search.toString()).isZero();
    return search.stdout().trim();
  }
}
