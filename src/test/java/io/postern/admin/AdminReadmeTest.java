package io.postern.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.BackendConfig;
import io.postern.config.BackendConfig.Balance;
import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.BackendConfig.HealthCheck;
import io.postern.config.BackendConfig.Server;
import io.postern.config.TlsMode;
import io.postern.session.SessionView;
import io.postern.testing.ExternalCommand;
import io.postern.testing.Ports;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's admin API curl lines, run as written against an embedded Postern (only the
 * address and the token file's path replaced): each answers JSON that is not an error.
 */
class AdminReadmeTest {

  @TempDir
  Path dir;

  @Test
  void theReadmesCurlLinesShouldWorkAsWritten() throws Exception {
    Path token = dir.resolve("admin.token");
    Files.writeString(token, "0123456789abcdef0123456789abcdef\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    PosternFixture.Builder builder = PosternFixture.builder(dir.resolve("postern"))
        .user("alice", "pw").adminTokenFile(token);
    builder.backend(new BackendConfig("mail", List.of(
            new Server("imap1", "127.0.0.1", 1, Ports.closed(), null),
            new Server("imap2", "127.0.0.1", 1, Ports.closed(), null)),
        new BackendConfig.Endpoint(143, TlsMode.NONE), new BackendConfig.Endpoint(110,
            TlsMode.NONE), true, null, Balance.USER_HASH, HealthCheck.OFF, ClientIp.NONE));
    FakeSessions sessions = new FakeSessions();
    sessions.reset(List.of(new SessionView("7e4838fdb044", "alice", "203.0.113.5", 57448,
        "imaps", "imap", "mail", "imap1", "TLSv1.3", Instant.now(), 48213, 1311, true)));
    List<String> lines = curlLines();
    assertThat(lines).as("curl lines of the README's Admin API").hasSizeGreaterThan(4);
    try (PosternFixture postern = builder.start()) {
      postern.server().sessionDirectory(sessions);
      String tokenLine = null;
      int ran = 0;
      for (String line : lines) {
        line = line.replace("/etc/postern/admin.token", token.toString())
            .replace("http://127.0.0.1:9102", postern.adminUrl());
        if (line.startsWith("TOKEN=")) {
          tokenLine = line;
          continue;
        }
        // Instance drain and reload act on the whole server: not run here.
        if (line.contains("/api/drain") || line.contains("/api/reload")) {
          continue;
        }
        ProcessResult r = ExternalCommand.run(List.of("sh", "-c", tokenLine + "\n" + line),
            Duration.ofSeconds(20));
        assertThat(r.exitCode()).as(line + "\n" + r).isZero();
        JsonObject answer = new JsonObject(r.stdoutUtf8());
        assertThat(answer.containsKey("error")).as(line + " answered " + answer).isFalse();
        ran++;
      }
      assertThat(ran).isEqualTo(5);
      assertThat(sessions.ended).hasSize(2);
    }
  }

  /** The TOKEN= and curl lines of the first code block under "### Admin API". */
  private static List<String> curlLines() throws Exception {
    List<String> readme = Files.readAllLines(Path.of("README.md"));
    int at = readme.indexOf("### Admin API");
    assertThat(at).as("README has ### Admin API").isNotNegative();
    List<String> out = new ArrayList<>();
    boolean inBlock = false;
    for (String line : readme.subList(at, readme.size())) {
      if (line.startsWith("```")) {
        if (inBlock) {
          break;
        }
        inBlock = true;
      } else if (inBlock && (line.startsWith("curl ") || line.startsWith("TOKEN="))) {
        out.add(line);
      }
    }
    return out;
  }
}
