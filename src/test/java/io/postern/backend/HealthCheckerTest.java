package io.postern.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.ConfigLoader;
import io.postern.config.PosternConfig;
import io.postern.config.Protocol;
import io.postern.testing.Ports;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the health checks leave for an operator to read when a server fails them. */
class HealthCheckerTest {

  private final Vertx vertx = Vertx.vertx();

  @TempDir
  Path dir;

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void aServerThatRefusesConnectionsShouldBeDownWithTheReasonInFull() throws Exception {
    // Nothing listens there: the connect is refused.
    int closed = Ports.free(1)[0];
    Path passwd = Files.writeString(dir.resolve("users"), "");
    Path yaml = Files.writeString(dir.resolve("postern.yaml"), String.join("\n",
        "listeners:",
        "  - { name: imap, protocol: imap, address: 127.0.0.1, port: 0, tls: none }",
        "auth: { passwd-file: '" + passwd + "', cleartext: allow }",
        "backends:",
        "  default:",
        "    servers:",
        "      - { name: mailstore-with-a-long-name-a, host: 127.0.0.1, imap-port: " + closed
            + " }",
        "      - { name: mailstore-with-a-long-name-b, host: 127.0.0.1, imap-port: " + closed
            + " }",
        "    health-check: { interval: 200ms, timeout: 200ms, fall: 1, rise: 1 }",
        ""));
    PosternConfig config = ConfigLoader.load(vertx, yaml, Map.of()).await();
    BackendPools pools = new BackendPools(config.backends().values(), Map.of());
    BackendConnector connector = new BackendConnector(vertx, config, pools, (b, n) -> { });
    HealthProbe connectOnly = (c, target) -> c.connect(target)
        .compose(socket -> socket.close()).map(v -> Set.of());
    HealthChecker checker = new HealthChecker(vertx, pools, connector,
        Map.of(Protocol.IMAP, connectOnly), (target, protocol, nanos, passed) -> { });
    checker.start();
    try {
      ServerHealth a = pools.get("default").health(0, Protocol.IMAP);
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> !a.up());
      // Postern's own words first, then the network's: the end says why.
      assertThat(a.lastProblem()).startsWith("cannot connect to default/mailstore-with-a-long-"
          + "name-a(127.0.0.1:" + closed + ", tls=none): ").contains("Connection refused");
    } finally {
      checker.stop();
      connector.close().await();
    }
  }
}
