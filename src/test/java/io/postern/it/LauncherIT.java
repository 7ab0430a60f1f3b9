package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.ExternalCommand;
import io.postern.testing.ProcessResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/postern}, the launcher the systemd unit and the image start Postern with, run
 * against the packaged jar laid out as installed: the jar in {@code $POSTERN_HOME}, the
 * configuration named by {@code POSTERN_CONFIG}, the JVM options from {@code POSTERN_HEAP} and
 * {@code POSTERN_JAVA_OPTS}, which Postern itself must not take for configuration keys.
 */
class LauncherIT {

  private static final Path LAUNCHER = Path.of("deploy/postern").toAbsolutePath();
  private static final Path JAR = Path.of("target/postern.jar").toAbsolutePath();

  @TempDir
  Path dir;

  /** {@code /usr/share/postern/postern.jar} and {@code /etc/postern/} in a temporary directory. */
  private Map<String, String> installed() throws IOException {
    Path home = Files.createDirectories(dir.resolve("usr/share/postern"));
    Files.createSymbolicLink(home.resolve("postern.jar"), JAR);
    Path etc = Files.createDirectories(dir.resolve("etc/postern"));
    try (Stream<Path> files = Files.list(Path.of("conf"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.copy(f, etc.resolve(f.getFileName()));
      }
    }
    Map<String, String> env = new HashMap<>();
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("POSTERN_HOME", home.toString());
    env.put("POSTERN_CONFIG", etc.resolve("postern.yaml").toString());
    return env;
  }

  private ProcessResult launch(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("sh", LAUNCHER.toString()));
    command.addAll(List.of(args));
    return ExternalCommand.run(command, Duration.ofSeconds(60),
        builder -> builder.directory(dir.toFile()).environment().putAll(env));
  }

  @Test
  void theLauncherShouldStartTheInstalledJarWithItsJvmOptions() throws Exception {
    Map<String, String> env = installed();
    env.put("POSTERN_HEAP", "96m");
    env.put("POSTERN_JAVA_OPTS", "-XX:+PrintCommandLineFlags -Dpostern.test=1");
    ProcessResult r = launch(env, "--version");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("-XX:MaxHeapSize=100663296", "-XX:+ExitOnOutOfMemoryError",
        "-XX:+UseG1GC").contains("postern 0.");
  }

  /** Unless POSTERN_HEAP says otherwise, the heap is 64 MiB + 32 KiB per session to hold. */
  @Test
  void theHeapShouldBeSizedForTheSessionsToHold() throws Exception {
    Map<String, String> env = installed();
    env.put("POSTERN_SESSIONS", "2000");
    env.put("POSTERN_JAVA_OPTS", "-XX:+PrintCommandLineFlags");
    ProcessResult r = launch(env, "--version");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("-XX:MaxHeapSize=" + (126L << 20), "-XX:+UseG1GC");
    // Decimal, not octal as sh would read it.
    env.put("POSTERN_SESSIONS", "02000");
    r = launch(env, "--version");
    assertThat(r.stdout()).as(r.toString()).contains("-XX:MaxHeapSize=" + (126L << 20));
    env.put("POSTERN_SESSIONS", "lots");
    r = launch(env, "--version");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("POSTERN_SESSIONS must be a number of sessions, not 'lots'");
  }

  @Test
  void launcherVariablesShouldNotBeTakenForConfigurationKeys() throws Exception {
    Map<String, String> env = installed();
    env.put("POSTERN_HEAP", "128m");
    env.put("POSTERN_JAVA_OPTS", "-Xss512k");
    ProcessResult r = launch(env, "--demo", "--check-config");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout() + r.stderr()).contains("configuration " + env.get("POSTERN_CONFIG")
        + " is valid");
  }

  @Test
  void aConfigOnTheCommandLineShouldWinOverPosternConfig() throws Exception {
    Map<String, String> env = installed();
    Path mine = dir.resolve("mine.yaml");
    Files.writeString(mine, "limits: { idle-timout: 45m }\n");
    ProcessResult r = launch(env, "--config", mine.toString(), "--demo", "--check-config");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("limits.idle-timout: unknown key");
    // And a typo in an environment key path is an error that names the variable.
    env.put("POSTERN_LIMITS__IDLE_TIMOUT", "45m");
    r = launch(env, "--demo", "--check-config");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains(
        "limits.idle-timout: unknown key (set by POSTERN_LIMITS__IDLE_TIMOUT)");
  }
}
