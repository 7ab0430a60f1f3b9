package io.postern.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The files in deploy/ against the configuration they run: the Kubernetes ConfigMap holds a
 * configuration Postern accepts, its ports are the ones the Deployment and Service expose, and
 * neither systemd nor the kubelet kills Postern before {@code limits.shutdown-grace} is over.
 * (The files' own syntax is checked by .ci/deploy-checks.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployFilesTest {

  private static final Path KUBERNETES = Path.of("deploy/kubernetes");

  private Vertx vertx;

  @TempDir
  Path dir;

  @BeforeAll
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  void stop() {
    vertx.close().await();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> yaml(Path file) throws Exception {
    return (Map<String, Object>) new Yaml().load(Files.readString(file));
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Object node, Object... path) {
    Object n = node;
    for (Object step : path) {
      n = step instanceof Integer i ? ((List<Object>) n).get(i) : ((Map<String, Object>) n).get(step);
    }
    return (T) n;
  }

  private PosternConfig configMapConfiguration() throws Exception {
    Path file = dir.resolve("postern.yaml");
    Files.writeString(file, at(yaml(KUBERNETES.resolve("configmap.yaml")), "data", "postern.yaml"));
    return ConfigLoader.load(vertx, file, Map.of()).await();
  }

  @Test
  void theConfigMapShouldHoldAConfigurationPosternAccepts() throws Exception {
    PosternConfig c = configMapConfiguration();
    assertThat(c.tls().certificates().get(0).cert()).isEqualTo(Path.of("/etc/postern/tls/tls.crt"));
    assertThat(c.admin().tokenFile()).isEqualTo(Path.of("/etc/postern/admin/token"));
  }

  @Test
  void theDeploymentAndServiceShouldExposeTheConfiguredPorts() throws Exception {
    PosternConfig c = configMapConfiguration();
    Map<String, Object> container = at(yaml(KUBERNETES.resolve("deployment.yaml")),
        "spec", "template", "spec", "containers", 0);
    List<Map<String, Object>> ports = at(container, "ports");
    Map<String, Integer> containerPorts = new HashMap<>();
    ports.forEach(p -> containerPorts.put((String) p.get("name"), (Integer) p.get("containerPort")));
    for (ListenerConfig l : c.listeners()) {
      assertThat(containerPorts).as("container port named " + l.name())
          .containsEntry(l.name(), l.port());
    }
    assertThat(containerPorts).containsEntry("admin", c.admin().port());
    // The probes reach the admin listener from outside the pod.
    assertThat(c.admin().address()).isIn("::", "0.0.0.0");

    List<Map<String, Object>> servicePorts =
        at(yaml(KUBERNETES.resolve("service.yaml")), "spec", "ports");
    assertThat(servicePorts).extracting(p -> p.get("port"), p -> p.get("targetPort"))
        .containsExactlyInAnyOrder(tuple(143, "imap"),
            tuple(993, "imaps"),
            tuple(110, "pop3"),
            tuple(995, "pop3s"));
  }

  @Test
  void theKubeletShouldNotKillPosternBeforeTheShutdownGraceIsOver() throws Exception {
    Duration grace = configMapConfiguration().limits().shutdownGrace();
    Map<String, Object> pod = at(yaml(KUBERNETES.resolve("deployment.yaml")),
        "spec", "template", "spec");
    int preStop = at(pod, "containers", 0, "lifecycle", "preStop", "sleep", "seconds");
    int termination = at(pod, "terminationGracePeriodSeconds");
    assertThat(Duration.ofSeconds(termination))
        .isGreaterThan(grace.plusSeconds(preStop));
  }

  @Test
  void systemdShouldNotKillPosternBeforeTheShippedShutdownGraceIsOver() throws Exception {
    Duration grace = ConfigLoader.load(vertx, Path.of("conf/postern.yaml"), Map.of()).await()
        .limits().shutdownGrace();
    String unit = Files.readString(Path.of("deploy/systemd/postern.service"));
    Matcher timeout = Pattern.compile("(?m)^TimeoutStopSec=(\\d+)s$").matcher(unit);
    assertThat(timeout.find()).as("TimeoutStopSec=<n>s in postern.service").isTrue();
    assertThat(Duration.ofSeconds(Long.parseLong(timeout.group(1)))).isGreaterThan(grace);
  }
}
