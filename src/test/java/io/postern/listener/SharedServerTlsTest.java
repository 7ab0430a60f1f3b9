package io.postern.listener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.TestTls;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Vert.x defect {@link SharedServerTls} works around, and the work-around itself. When the
 * first test fails, Vert.x has fixed the defect: delete {@code SharedServerTls} and this test.
 */
@ExtendWith(VertxExtension.class)
class SharedServerTlsTest {

  private static final int INSTANCES = 2;
  private static final int CONNECTIONS = 8;

  @Test
  void vertxShouldStillLeaveInstancesAfterTheFirstWithoutATlsContext(Vertx vertx)
      throws Exception {
    List<String> outcomes = upgradesOnSharedInstances(vertx, false);
    assertThat(outcomes)
        .as("Vert.x now gives every instance of a shared server its TLS context: delete"
            + " SharedServerTls and this test")
        .contains("NullPointerException");
  }

  @Test
  void adoptingTheFirstInstancesContextShouldLetEveryInstanceStartTls(Vertx vertx)
      throws Exception {
    assertThat(upgradesOnSharedInstances(vertx, true)).hasSize(CONNECTIONS).containsOnly("started");
  }

  /**
   * Two instances of one server on one port, as Postern deploys a STARTTLS listener; each
   * accepted socket is asked to start TLS at once. Returns, per connection, "started" or the
   * name of the exception the upgrade failed with.
   */
  private static List<String> upgradesOnSharedInstances(Vertx vertx, boolean adopt)
      throws Exception {
    TestTls tls = TestTls.shared("localhost");
    ServerSSLOptions ssl = new ServerSSLOptions().setKeyCertOptions(new PemKeyCertOptions()
        .setCertPath(tls.certPath().toString()).setKeyPath(tls.keyPath().toString()));
    Queue<String> outcomes = new ConcurrentLinkedQueue<>();
    Queue<Integer> ports = new ConcurrentLinkedQueue<>();
    vertx.deployVerticle(() -> new VerticleBase() {
      @Override
      public Future<?> start() {
        NetServer server = vertx.createNetServer().connectHandler(socket -> {
          Future<Void> upgrade;
          try {
            upgrade = socket.upgradeToSsl(ssl, Buffer.buffer());
          } catch (RuntimeException e) {
            upgrade = Future.failedFuture(e);
          }
          outcomes.add(upgrade.failed() ? upgrade.cause().getClass().getSimpleName()
              : "started");
          socket.close();
        });
        // A negative port: one random port shared by every instance of this deployment.
        return server.listen(-1, "127.0.0.1").onSuccess(s -> {
          if (adopt) {
            SharedServerTls.adopt(s);
          }
          ports.add(s.actualPort());
        });
      }
    }, new DeploymentOptions().setInstances(INSTANCES)).await(10, TimeUnit.SECONDS);
    assertThat(ports).hasSize(INSTANCES).allMatch(p -> p.equals(ports.peek()));
    List<Socket> clients = new ArrayList<>();
    try {
      // Vert.x hands accepted connections to the instances in turn.
      for (int i = 0; i < CONNECTIONS; i++) {
        clients.add(new Socket(InetAddress.getLoopbackAddress(), ports.peek()));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> outcomes.size() == CONNECTIONS);
    } finally {
      for (Socket client : clients) {
        client.close();
      }
    }
    return List.copyOf(outcomes);
  }
}
