package io.postern.it;

import io.postern.testing.ExternalCommand;
import io.postern.testing.ProcessResult;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged {@code target/postern.jar} run as {@code java -jar}, the way the README runs it:
 * to completion ({@code --version}, {@code --check-config}) or as a server that a test stops
 * with SIGTERM, as an operator would.
 */
public final class PosternJar implements AutoCloseable {

  private static final Path JAR = Path.of("target/postern.jar").toAbsolutePath();
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  // Open sessions get their goodbye first.
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(40);
  private static final Pattern LISTENER =
      Pattern.compile("listener (\\S+) \\(.*\\) on 127\\.0\\.0\\.1:(\\d+)");
  // The last line Postern logs when it has started.
  private static final Pattern ADMIN = Pattern.compile("admin on (http://127\\.0\\.0\\.1:(\\d+))");

  /**
   * Sets SIGHUP as {@code argv[1]} says (and SIGPIPE, which Python ignores, back to its default),
   * then becomes {@code argv[2..]}: an ignored signal is inherited through exec, a default one too.
   */
  private static final String WITH_HANG_UP = String.join("\n",
      "import os, signal, sys",
      "signal.signal(signal.SIGHUP, getattr(signal, sys.argv[1]))",
      "signal.signal(signal.SIGPIPE, signal.SIG_DFL)",
      "os.execv(sys.argv[2], sys.argv[2:])");

  /** What SIGHUP does to the jar when it starts. */
  enum HangUp {
    /**
     * Its default, as a service manager starts a service: whatever this test's own parent
     * ignored (a CI job under {@code nohup} ignores SIGHUP) is not passed on.
     */
    DEFAULT("SIG_DFL"),
    /** Ignored, as under {@code nohup}. */
    IGNORED("SIG_IGN");

    private final String python;

    HangUp(String python) {
      this.python = python;
    }
  }

  private final ServiceProcess process;
  private final String adminUrl;
  private final int adminPort;

  private PosternJar(ServiceProcess process, String adminUrl, int adminPort) {
    this.process = process;
    this.adminUrl = adminUrl;
    this.adminPort = adminPort;
  }

  /** Runs the jar in {@code cwd} with {@code env} added to the environment, to completion. */
  static ProcessResult run(Path cwd, Map<String, String> env, String... args) throws Exception {
    return run(cwd, env, 0, args);
  }

  /** The same under {@code ulimit -n openFiles} (0: the inherited limit). */
  static ProcessResult run(Path cwd, Map<String, String> env, int openFiles, String... args)
      throws Exception {
    return ExternalCommand.run(command(openFiles, HangUp.DEFAULT, args), RUN_TIMEOUT,
        builder -> builder.directory(cwd.toFile()).environment().putAll(env));
  }

  /** Starts the jar as {@link #run} would, and waits until it has started (or fails if it exits). */
  public static PosternJar start(Path cwd, Map<String, String> env, String... args)
      throws Exception {
    return start(cwd, env, 0, args);
  }

  /** The same under {@code ulimit -n openFiles} (0: the inherited limit). */
  static PosternJar start(Path cwd, Map<String, String> env, int openFiles, String... args)
      throws Exception {
    return start(cwd, env, openFiles, HangUp.DEFAULT, args);
  }

  /** The same with SIGHUP set as {@code hangUp} says when the JVM starts. */
  static PosternJar start(Path cwd, Map<String, String> env, int openFiles, HangUp hangUp,
      String... args) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command(openFiles, hangUp, args))
        .directory(cwd.toFile());
    builder.environment().putAll(env);
    ServiceProcess process = new ServiceProcess("postern.jar", cwd.resolve("postern.out"),
        STOP_TIMEOUT);
    MatchResult started = process.start(builder, START_TIMEOUT, ADMIN);
    return new PosternJar(process, started.group(1), Integer.parseInt(started.group(2)));
  }

  private static List<String> command(int openFiles, HangUp hangUp, String... args) {
    List<String> command = new ArrayList<>();
    // exec at each step: the shell and Python become the JVM, so signals reach Postern itself.
    if (openFiles > 0) {
      command.addAll(List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$0\" \"$@\""));
    }
    command.addAll(List.of("python3", "-c", WITH_HANG_UP, hangUp.python));
    command.addAll(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString()));
    command.addAll(List.of(args));
    return command;
  }

  /** Each listener's name and the port it bound, from the start-up lines. */
  public Map<String, Integer> listenerPorts() throws IOException {
    Map<String, Integer> ports = new LinkedHashMap<>();
    Matcher listener = LISTENER.matcher(output());
    while (listener.find()) {
      ports.put(listener.group(1), Integer.parseInt(listener.group(2)));
    }
    return ports;
  }

  /** The admin endpoint's base address, e.g. {@code http://127.0.0.1:40123}. */
  public String adminUrl() {
    return adminUrl;
  }

  int adminPort() {
    return adminPort;
  }

  /** Everything Postern has written on stdout and stderr so far. */
  public String output() throws IOException {
    return process.output();
  }

  /** The Java process's id (for {@code jcmd} and {@code /proc}). */
  public long pid() {
    return process.pid();
  }

  /** SIGTERM, without waiting. */
  void terminate() {
    process.terminate();
  }

  /** Waits for Postern to exit (after {@link #terminate}); returns everything it wrote. */
  String awaitExit(Duration timeout) throws IOException, InterruptedException {
    if (!process.awaitExit(timeout)) {
      throw new AssertionError("Postern did not exit within " + timeout + ":\n" + output());
    }
    return output();
  }

  @Override
  public void close() {
    process.close();
  }
}
