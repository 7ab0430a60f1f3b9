package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.OpensslCertificates;
import io.postern.testing.ProcessResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.MatchResult;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The pod of deploy/kubernetes without a cluster: the launcher started with the Deployment's
 * args and env, the ConfigMap and the Secrets laid out as the kubelet mounts them (files behind a
 * {@code ..data} symlink), answering the Deployment's probes on its admin port, and stopping on
 * SIGTERM within terminationGracePeriodSeconds, as the container's process (the launcher execs
 * Java). Only what a test must change is overridden: paths under a temporary directory, and
 * loopback ports of the OS's choosing.
 */
class KubernetesPodIT {

  private static final Path KUBERNETES = Path.of("deploy/kubernetes");
  private static final Pattern ADMIN = Pattern.compile("admin on (http://127\\.0\\.0\\.1:\\d+)");

  @TempDir
  Path dir;

  @SuppressWarnings("unchecked")
  private static <T> T at(Object node, Object... path) {
    Object n = node;
    for (Object step : path) {
      n = step instanceof Integer i ? ((List<Object>) n).get(i) : ((Map<String, Object>) n).get(step);
    }
    return (T) n;
  }

  private static Object yaml(String file) throws Exception {
    return new Yaml().load(Files.readString(KUBERNETES.resolve(file)));
  }

  /** A ConfigMap or Secret volume as the kubelet writes it: a timestamped directory, ..data, links. */
  private Path volume(String mountPath, Map<String, byte[]> files) throws Exception {
    Path mount = Files.createDirectories(dir.resolve(mountPath.substring(1)));
    Path data = Files.createDirectory(mount.resolve("..2026_01_01_00_00_00.000000001"));
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      Files.write(data.resolve(f.getKey()), f.getValue());
    }
    Files.createSymbolicLink(mount.resolve("..data"), data.getFileName());
    for (String name : files.keySet()) {
      Files.createSymbolicLink(mount.resolve(name), Path.of("..data", name));
    }
    return mount;
  }

  @Test
  void thePodShouldStartFromTheManifestsAnswerItsProbesAndStopWithinTheGracePeriod()
      throws Exception {
    Object deployment = yaml("deployment.yaml");
    Map<String, Object> pod = at(deployment, "spec", "template", "spec");
    Map<String, Object> container = at(pod, "containers", 0);

    String configYaml = at(yaml("configmap.yaml"), "data", "postern.yaml");
    volume("/etc/postern/config", Map.of("postern.yaml", configYaml.getBytes()));
    OpensslCertificates.Pair pair = OpensslCertificates.localhost(dir, "pod");
    Path tls = volume("/etc/postern/tls", Map.of("tls.crt", Files.readAllBytes(pair.cert()),
        "tls.key", Files.readAllBytes(pair.key())));
    Path admin = volume("/etc/postern/admin", Map.of("token", "pod-test-token\n".getBytes()));
    Path home = Files.createDirectories(dir.resolve("usr/share/postern"));
    Files.createSymbolicLink(home.resolve("postern.jar"),
        Path.of("target/postern.jar").toAbsolutePath());

    // The Deployment's args, with /etc/postern moved under the temporary directory.
    List<String> command = new ArrayList<>(List.of("sh",
        Path.of("deploy/postern").toAbsolutePath().toString()));
    List<String> args = at(container, "args");
    for (String arg : args) {
      command.add(arg.startsWith("/etc/postern/") ? dir.resolve(arg.substring(1)).toString() : arg);
    }
    Map<String, String> env = new HashMap<>();
    List<Map<String, Object>> podEnv = at(container, "env");
    podEnv.forEach(e -> env.put((String) e.get("name"), (String) e.get("value")));
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("POSTERN_HOME", home.toString());
    env.put("POSTERN_TLS__CERTIFICATES__0__CERT", tls.resolve("tls.crt").toString());
    env.put("POSTERN_TLS__CERTIFICATES__0__KEY", tls.resolve("tls.key").toString());
    env.put("POSTERN_ADMIN__TOKEN_FILE", admin.resolve("token").toString());
    env.put("POSTERN_ADMIN__ADDRESS", "127.0.0.1");
    env.put("POSTERN_ADMIN__PORT", "0");
    for (int i = 0; i < 4; i++) {
      env.put("POSTERN_LISTENERS__" + i + "__ADDRESS", "127.0.0.1");
      env.put("POSTERN_LISTENERS__" + i + "__PORT", "0");
    }

    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().putAll(env);
    int grace = at(pod, "terminationGracePeriodSeconds");
    try (ServiceProcess postern = new ServiceProcess("pod", dir.resolve("pod.out"),
        Duration.ofSeconds(grace))) {
      MatchResult started = postern.start(builder, Duration.ofSeconds(90), ADMIN);
      String adminUrl = started.group(1);
      assertThat(postern.output()).contains("listener imaps", "listener pop3s");

      String live = at(container, "livenessProbe", "httpGet", "path");
      ProcessResult liveness = Clients.curl(Duration.ofSeconds(30), "-s", "-o", "/dev/null",
          "-w", "%{http_code}", adminUrl + live);
      assertThat(liveness.stdout()).as(liveness.toString()).isEqualTo("200");
      // No backend runs here, so not ready; but the path is the readiness endpoint, not a 404.
      String ready = at(container, "readinessProbe", "httpGet", "path");
      ProcessResult readiness = Clients.curl(Duration.ofSeconds(30), "-s", adminUrl + ready);
      assertThat(readiness.stdout()).as(readiness.toString()).contains("\"status\"");

      // SIGTERM to the launcher's pid reaches Postern itself (exec), as the kubelet's would.
      long start = System.nanoTime();
      postern.terminate();
      assertThat(postern.awaitExit(Duration.ofSeconds(grace))).as("exited within the grace")
          .isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(grace));
      assertThat(postern.output()).contains("Postern stopping");
    }
  }
}
