package io.postern.it;

import io.postern.testing.ProcessTree;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A long-running program an interop test starts as a child process (Dovecot, nginx, Prometheus,
 * the auth_http service, the packaged Postern): stdin from /dev/null, stdout and stderr appended to
 * one file, and stopped by pid (see {@link ProcessTree#stop}) at {@link #close()} or, at the
 * latest, when the JVM exits, so that no daemon outlives the test run. What is specific to one
 * program (its configuration, users, ports, what "ready" means) stays in that program's harness.
 */
final class ServiceProcess implements AutoCloseable {

  /** The program could not bind a port picked for it: somebody took it in between. */
  static final class PortClash extends IOException {
    private static final long serialVersionUID = 1L;

    PortClash(String message) {
      super(message);
    }
  }

  /** One try at starting the program on ports picked just before it. */
  @FunctionalInterface
  interface Start {
    void run() throws Exception;
  }

  /** Whether the program is ready yet: it greets on its ports, or its output says so. */
  @FunctionalInterface
  interface Readiness {
    boolean ready() throws IOException;
  }

  // Keeps paths that go into a program's configuration free of anything its parser would quote,
  // expand (Dovecot's %) or treat as a comment.
  private static final String SAFE_PATH = "[A-Za-z0-9/._+-]+";
  private static final Duration POLL_INTERVAL = Duration.ofMillis(50);
  private static final int LOG_TAIL_LINES = 40;

  private final String name;
  private final Path output;
  private final List<Path> logs;
  private final Duration stopGrace;
  private final Thread shutdownHook;
  // Where each file ended when the program was last launched: diagnosis shows only what is newer.
  private final Map<Path, Long> offsets = new ConcurrentHashMap<>();
  private Process process;

  /**
   * {@code name} for messages; {@code output} receives stdout and stderr; {@code logs} are the
   * program's own log files, shown with the output when it fails to start; {@code stopGrace} is
   * how long it may take to stop after SIGTERM.
   */
  ServiceProcess(String name, Path output, Duration stopGrace, Path... logs) {
    this.name = name;
    this.output = output;
    this.logs = List.of(logs);
    this.stopGrace = stopGrace;
    this.shutdownHook = new Thread(this::stop, name.replace(' ', '-') + "-stopper");
    // Registered before the first launch, so no program outlives a JVM that exits mid-start.
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * {@code dir} made absolute and created, after checking that it can stand unquoted in
   * {@code program}'s configuration.
   */
  static Path configurableDirectory(Path dir, String program) throws IOException {
    Path root = dir.toAbsolutePath().normalize();
    if (!root.toString().matches(SAFE_PATH)) {
      throw new IllegalArgumentException(program + " directory must match " + SAFE_PATH + ": " + root);
    }
    return Files.createDirectories(root);
  }

  /** Whether the test JVM runs as root, as Dovecot needs and as nginx's {@code user} directive does. */
  static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** Starts the program; the caller then waits with {@link #awaitReady}. */
  synchronized void launch(ProcessBuilder builder) throws IOException {
    if (process != null) {
      throw new IllegalStateException(this + " is already running");
    }
    offsets.clear();
    for (Path file : files()) {
      offsets.put(file, Files.exists(file) ? Files.size(file) : 0L);
    }
    process = builder
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
        .start();
  }

  /**
   * Polls until {@code readiness} says yes. Fails fast when the program exits: with a
   * {@link PortClash} when it could not bind, which {@link #startOnFreePorts} retries.
   */
  void awaitReady(Duration timeout, Readiness readiness) throws IOException, InterruptedException {
    Process starting;
    synchronized (this) {
      starting = process;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!starting.isAlive()) {
        String diagnosis = diagnosis();
        String message = name + " exited with status " + starting.exitValue() + " while starting. "
            + diagnosis;
        if (diagnosis.contains("Address already in use")) {
          throw new PortClash(message);
        }
        throw new IOException(message);
      }
      if (readiness.ready()) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException(this + " was not ready within " + timeout + ". " + diagnosis());
      }
      Thread.sleep(POLL_INTERVAL.toMillis());
    }
  }

  /**
   * Launches a program that picks its own port (bind 0) and says which, and waits until its
   * output holds {@code announcement}; returns the first match. A program that does not come up
   * is stopped for good before the failure goes on (its files stay for diagnosis).
   */
  MatchResult start(ProcessBuilder builder, Duration timeout, Pattern announcement)
      throws IOException, InterruptedException {
    try {
      launch(builder);
      awaitReady(timeout, () -> announcement.matcher(output()).find());
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      close();
      throw e;
    }
    Matcher match = announcement.matcher(output());
    match.find();
    return match.toMatchResult();
  }

  /**
   * Starts a program that has to be told its ports: {@code start} picks free ports, writes them
   * into the configuration, {@link #launch}es and {@link #awaitReady awaits} it, and is run again
   * while the program is beaten to one of them. A program that does not come up is stopped for
   * good before the failure goes on (its files stay for diagnosis).
   */
  void startOnFreePorts(int attempts, Start start) throws Exception {
    try {
      PortClash lastClash = null;
      for (int attempt = 1; attempt <= attempts; attempt++) {
        try {
          start.run();
          return;
        } catch (PortClash clash) {
          stop();
          lastClash = clash;
        }
      }
      throw new IOException(name + " lost a port race " + attempts + " times in a row", lastClash);
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /** What the program wrote on stdout and stderr since it was last launched. */
  String output() throws IOException {
    return since(output);
  }

  /** The running program's process id; it must be running. */
  synchronized long pid() {
    if (process == null) {
      throw new IllegalStateException(name + " is not running");
    }
    return process.pid();
  }

  /** SIGTERM, as an operator's {@code kill} would send, without waiting. */
  synchronized void terminate() {
    if (process != null) {
      process.toHandle().destroy();
    }
  }

  /** Whether the program has exited within {@code timeout}. */
  boolean awaitExit(Duration timeout) throws InterruptedException {
    Process running;
    synchronized (this) {
      running = process;
    }
    return running == null || running.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops the program (and its children); it may be launched again. */
  synchronized void stop() {
    if (process == null) {
      return;
    }
    Process running = process;
    process = null;
    ProcessTree.stop(running, stopGrace);
  }

  /** Stops the program for good; its files stay for diagnosis. */
  @Override
  public void close() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // We are the hook, or the JVM is exiting anyway; nothing is left to deregister.
    }
  }

  @Override
  public synchronized String toString() {
    return name + (process == null ? " (stopped)" : " (pid " + process.pid() + ")");
  }

  private List<Path> files() {
    List<Path> files = new ArrayList<>(List.of(output));
    files.addAll(logs);
    return files;
  }

  private String diagnosis() throws IOException {
    StringBuilder text = new StringBuilder("Output:\n").append(output());
    for (Path log : logs) {
      List<String> lines = Arrays.asList(since(log).split("\n", -1));
      text.append("\n").append(log.getFileName()).append(" (end):\n")
          .append(String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size())));
    }
    return text.toString();
  }

  private String since(Path file) throws IOException {
    if (!Files.exists(file)) {
      return "";
    }
    byte[] all = Files.readAllBytes(file);
    int from = (int) Math.min(offsets.getOrDefault(file, 0L), all.length);
    // Lenient: a log may hold bytes that are not UTF-8 (user names, binary junk).
    return new String(all, from, all.length - from, StandardCharsets.UTF_8);
  }
}
