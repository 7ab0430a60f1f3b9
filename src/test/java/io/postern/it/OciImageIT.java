package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.ExternalCommand;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCI image, made by {@code deploy/oci/build-image} (what {@code mvn -P image package} runs)
 * from the packaged jar, then run once as a container would be: unpacked by umoci (an image
 * tool that checks every digest) into a runtime bundle and started by runc with {@code --demo},
 * as the image's non-root user, without any capability and with the sysctl Docker sets
 * ({@code net.ipv4.ip_unprivileged_port_start=0}), on a read-only root with a tmpfs on
 * {@code /tmp}, in a network namespace of its own; curl,
 * in that namespace, reads the demo message over IMAPS and POP3S on 993 and 995.
 */
class OciImageIT {

  private static final Path BUILD_IMAGE = Path.of("deploy/oci/build-image").toAbsolutePath();
  private static final Path JAR = Path.of("target/postern.jar").toAbsolutePath();
  // jlink and gzip take about 20 s on an idle 2-core machine; CI shares it with the test JVM.
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(5);
  private static final Duration STEP_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(40);
  private static final String IMAGE_USER = "10001";
  // The last line --demo prints once every listener is up.
  private static final Pattern STARTED = Pattern.compile("try: curl .*'pop3s://127\\.0\\.0\\.1:995/1'");
  private static final String DEMO_SUBJECT = "Subject: Welcome to Postern";

  @TempDir
  Path dir;

  @Test
  void imageShouldServeTheDemoOverImapsAndPop3sAsANonRootUser() throws Exception {
    Path runc = require("runc", "runc");
    Path umoci = require("umoci", "umoci");
    Path nsenter = require("nsenter", "util-linux");
    Path curl = RealParts.require("curl");
    if (!ServiceProcess.isRoot()) {
      RealParts.missing("root: runc creates the container's namespaces and switches to its user");
    }

    Path archive = dir.resolve("postern-image.tar");
    long began = System.nanoTime();
    ProcessResult build = ExternalCommand.run(
        List.of("bash", BUILD_IMAGE.toString(), JAR.toString(), archive.toString()), BUILD_TIMEOUT);
    assertThat(build.exitCode()).as(build.toString()).isZero();
    System.out.printf("OciImageIT: built %d MiB in %.1f s: %s%n", Files.size(archive) >> 20,
        (System.nanoTime() - began) / 1e9, build.stdout().strip());

    Path layout = Files.createDirectories(dir.resolve("layout"));
    run(List.of("tar", "-C", layout.toString(), "-xf", archive.toString()));
    JsonObject index = new JsonObject(Files.readString(layout.resolve("index.json")));
    JsonObject entry = index.getJsonArray("manifests").getJsonObject(0);
    String tag = entry.getJsonObject("annotations").getString("org.opencontainers.image.ref.name");
    JsonObject manifest = blob(layout, entry.getString("digest"));
    JsonObject config = blob(layout, manifest.getJsonObject("config").getString("digest"))
        .getJsonObject("config");
    assertThat(config.getString("User")).isEqualTo(IMAGE_USER + ":" + IMAGE_USER);
    assertThat(config.getJsonObject("ExposedPorts").fieldNames())
        .contains("143/tcp", "993/tcp", "110/tcp", "995/tcp");
    assertThat(config.getJsonArray("Entrypoint")).containsExactly("/usr/bin/postern");

    // umoci checks each blob against its digest and writes the runtime spec from the image config.
    Path bundle = dir.resolve("bundle");
    run(List.of(umoci.toString(), "unpack", "--image", layout + ":" + tag, bundle.toString()));
    JsonObject spec = new JsonObject(Files.readString(bundle.resolve("config.json")));
    JsonObject process = spec.getJsonObject("process");
    assertThat(process.getJsonObject("user").getInteger("uid")).isEqualTo(Integer.valueOf(IMAGE_USER));
    process.put("terminal", false);
    process.getJsonArray("args").add("--demo");
    // No capability at all (umoci grants NET_BIND_SERVICE): the ports below 1024 must come from
    // the sysctl that Docker and Kubernetes' safe sysctls set, as deploy/README.md says.
    JsonObject capabilities = process.getJsonObject("capabilities");
    for (String set : List.copyOf(capabilities.fieldNames())) {
      capabilities.put(set, new JsonArray());
    }
    spec.getJsonObject("linux").put("sysctl",
        new JsonObject().put("net.ipv4.ip_unprivileged_port_start", "0"));
    // A read-only root with a tmpfs on /tmp, as deploy/README.md recommends: nothing else is written.
    spec.getJsonObject("root").put("readonly", true);
    spec.getJsonArray("mounts").add(new JsonObject().put("destination", "/tmp").put("type", "tmpfs")
        .put("source", "tmpfs").put("options", new JsonArray().add("nosuid").add("nodev").add("mode=1777")));
    Files.writeString(bundle.resolve("config.json"), spec.encodePrettily());

    String id = "postern-it-" + UUID.randomUUID().toString().substring(0, 8);
    try (ServiceProcess container = new ServiceProcess("postern container", dir.resolve("container.out"),
        STOP_TIMEOUT)) {
      container.start(new ProcessBuilder(runc.toString(), "run", "--bundle", bundle.toString(), id),
          START_TIMEOUT, STARTED);
      long pid = new JsonObject(run(List.of(runc.toString(), "state", id))).getLong("pid");

      String status = Files.readString(Path.of("/proc/" + pid + "/status"));
      assertThat(status).containsPattern("(?m)^Uid:\\s+" + IMAGE_USER + "\\s+" + IMAGE_USER
          + "\\s+" + IMAGE_USER + "\\s+" + IMAGE_USER + "$");
      assertThat(status).containsPattern("(?m)^CapEff:\\s+0+$");
      // The launcher exec'd the JVM: Postern is the container's first process, and gets signals.
      assertThat(Files.readString(Path.of("/proc/" + pid + "/cmdline")))
          .startsWith("/opt/java/bin/java\0").contains("\0/usr/share/postern/postern.jar\0")
          .contains("\0--config\0/etc/postern/postern.yaml\0--demo\0");

      List<String> inside = List.of(nsenter.toString(), "--target", Long.toString(pid), "--net",
          curl.toString(), "-sS", "-k", "--max-time", "30", "-u", "demo:demo");
      assertThat(run(with(inside, "imaps://127.0.0.1:993/INBOX;UID=1"))).contains(DEMO_SUBJECT);
      assertThat(run(with(inside, "pop3s://127.0.0.1:995/1"))).contains(DEMO_SUBJECT);
      // Each session's line is written when Postern has closed it, which may be after curl exits.
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(container.output())
          .contains("listener=imaps", "listener=pop3s", "user=demo"));

      // runc passes SIGTERM on to Postern, which stops as it does outside a container.
      container.terminate();
      assertThat(container.awaitExit(STOP_TIMEOUT)).as("the container stopped").isTrue();
      assertThat(container.output()).contains("Postern stopping");
    } finally {
      ExternalCommand.run(List.of(runc.toString(), "delete", "--force", id), STEP_TIMEOUT);
    }
  }

  /** RealParts.require, with the Debian package named (RealParts' table lists the older parts). */
  private static Path require(String command, String debianPackage) {
    boolean found = Stream.concat(Stream.of(System.getenv().getOrDefault("PATH", "").split(":")),
            Stream.of("/usr/sbin", "/sbin"))
        .anyMatch(directory -> !directory.isEmpty() && Files.isExecutable(Path.of(directory, command)));
    if (!found) {
      RealParts.missing("'" + command + "' is not on the PATH (Debian: apt-get install "
          + debianPackage + ", as .ci/oci-image does)");
    }
    return RealParts.require(command);
  }

  private static JsonObject blob(Path layout, String digest) throws Exception {
    return new JsonObject(Files.readString(layout.resolve("blobs/sha256")
        .resolve(digest.substring("sha256:".length()))));
  }

  private static List<String> with(List<String> command, String argument) {
    List<String> all = new ArrayList<>(command);
    all.add(argument);
    return all;
  }

  private static String run(List<String> command) throws Exception {
    return ExternalCommand.output(command, STEP_TIMEOUT);
  }
}
