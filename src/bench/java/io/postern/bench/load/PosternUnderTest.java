package io.postern.bench.load;

import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged jar ({@code target/postern.jar}) started by the shipped launcher
 * {@code deploy/postern}, so it runs with the JVM options operators get ({@code bench.jvm-options}
 * is added as {@code POSTERN_JAVA_OPTS}). Its configuration: the four listeners on loopback, TLS
 * 1.3 only with one certificate, the passwd-file, Dovecot as the backend in plaintext, and every
 * per-address limit off, because all the load comes from 127.0.0.1.
 */
final class PosternUnderTest implements ProxyUnderTest {

  private static final Path LAUNCHER = Path.of("deploy/postern").toAbsolutePath();
  private static final Path JAR_DIR = Path.of("target").toAbsolutePath();
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration STOP_GRACE = Duration.ofSeconds(45);
  private static final Pattern LISTENER =
      Pattern.compile("listener (\\S+) \\(.*\\) on 127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern ADMIN = Pattern.compile("admin on http://127\\.0\\.0\\.1:(\\d+)");
  private static final Pattern AUTO_MAX = Pattern.compile("max-connections: auto is (\\d+)");
  // The least Postern accepts: the most room for sessions under the open-file limit.
  static final int DESCRIPTOR_RESERVE = 32;

  private final Process process;
  private final Path output;
  private final Map<String, Integer> ports;
  private final ProcessMeter meter;
  private final Thread stopper;

  private PosternUnderTest(Process process, Path output, Map<String, Integer> ports,
      Thread stopper) {
    this.process = process;
    this.output = output;
    this.ports = Map.copyOf(ports);
    this.meter = new ProcessMeter(() -> List.of(process.pid()));
    this.stopper = stopper;
  }

  static PosternUnderTest start(Path dir, BenchBackend backend, BenchCertificate cert,
      String jvmOptions) throws Exception {
    if (!Files.isRegularFile(JAR_DIR.resolve("postern.jar"))) {
      throw new IllegalStateException("no target/postern.jar: the benchmark runs after package"
          + " (mvn -P bench verify)");
    }
    Files.createDirectories(dir);
    Path passwd = dir.resolve("users.passwd");
    StringBuilder lines = new StringBuilder();
    for (String user : BenchBackend.users()) {
      lines.append(PosternFixture.passwdLine(user, BenchBackend.PASSWORD, "")).append('\n');
    }
    lines.append(PosternFixture.passwdLine(BenchBackend.BIG_USER, BenchBackend.PASSWORD, ""))
        .append('\n');
    Files.writeString(passwd, lines);
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, configuration(passwd, backend, cert));
    Path output = dir.resolve("postern.out");

    ProcessBuilder builder = new ProcessBuilder("sh", LAUNCHER.toString(), "--config",
        config.toString()).directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectErrorStream(true).redirectOutput(output.toFile());
    Map<String, String> env = builder.environment();
    env.put("POSTERN_HOME", JAR_DIR.toString());
    env.remove("JAVA_TOOL_OPTIONS");
    env.put("JAVA_HOME", System.getProperty("java.home"));
    if (!jvmOptions.isBlank()) {
      env.put("POSTERN_JAVA_OPTS", jvmOptions);
    }
    Process process = builder.start();
    Thread stopper = new Thread(() -> ProcessTree.stop(process, STOP_GRACE), "postern-stopper");
    Runtime.getRuntime().addShutdownHook(stopper);
    try {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (!ADMIN.matcher(read(output)).find()) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IOException("Postern did not start:\n" + read(output));
        }
        Thread.sleep(100); // polling its log for the start-up line, not synchronizing threads
      }
      Map<String, Integer> ports = new HashMap<>();
      Matcher listener = LISTENER.matcher(read(output));
      while (listener.find()) {
        ports.put(listener.group(1), Integer.parseInt(listener.group(2)));
      }
      return new PosternUnderTest(process, output, ports, stopper);
    } catch (Exception | Error e) {
      ProcessTree.stop(process, STOP_GRACE);
      throw e;
    }
  }

  private static String configuration(Path passwd, BenchBackend backend, BenchCertificate cert) {
    return String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: imap,  protocol: imap, address: 127.0.0.1, port: 0, tls: starttls }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3,  protocol: pop3, address: 127.0.0.1, port: 0, tls: starttls }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "  protocols: [TLSv1.3]",
        "  engine: auto",
        "auth:",
        "  source: passwd-file",
        "  passwd-file: '" + passwd + "'",
        // One client address does everything: the per-address bounds would be the bottleneck.
        "  throttle: { max-in-flight-per-address: 100000, max-in-flight-per-user: 100000 }",
        // The first logins of each user wait for a hash check; the default queue per address
        // (10) would refuse some of 16 at once.
        "  hashing: { max-queue: 100000, max-queue-per-ip: 100000 }",
        "backends:",
        "  default:",
        "    host: 127.0.0.1",
        "    imap: { port: " + backend.imapPort() + ", tls: none }",
        "    pop3: { port: " + backend.pop3Port() + ", tls: none }",
        "limits:",
        "  max-connections: auto",
        "  max-connections-per-ip: 10000000",
        "  connection-rate-per-ip: 0",
        "  handshake-rate-per-ip: 0",
        "  descriptor-reserve: " + DESCRIPTOR_RESERVE,
        "  preauth-timeout: 300s",
        "  handshake-timeout: 60s",
        "  shutdown-grace: 5s",
        "  drain-window: 1s",
        "admin: { address: 127.0.0.1, port: 0 }",
        "");
  }

  @Override
  public String name() {
    return "Postern";
  }

  @Override
  public int imapsPort() {
    return ports.get("imaps");
  }

  @Override
  public int imapPort() {
    return ports.get("imap");
  }

  @Override
  public int pop3sPort() {
    return ports.get("pop3s");
  }

  @Override
  public int pop3Port() {
    return ports.get("pop3");
  }

  @Override
  public ProcessMeter meter() {
    return meter;
  }

  @Override
  public OptionalLong heapAfterGcKib() throws Exception {
    return ProcessMeter.heapAfterGcKib(process.pid());
  }

  /** What {@code max-connections: auto} became (logged when the limit cuts it below 50 000). */
  @Override
  public int maxSessionsByDescriptors() throws Exception {
    Matcher auto = AUTO_MAX.matcher(output());
    return auto.find() ? Integer.parseInt(auto.group(1)) : 50_000;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public String output() throws IOException {
    return read(output);
  }

  @Override
  public void close() {
    ProcessTree.stop(process, STOP_GRACE);
    try {
      Runtime.getRuntime().removeShutdownHook(stopper);
    } catch (IllegalStateException exiting) {
      // The JVM is exiting: the hook runs anyway.
    }
  }

  private static String read(Path file) throws IOException {
    return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
  }
}
