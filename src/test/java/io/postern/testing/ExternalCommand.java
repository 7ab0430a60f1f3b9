package io.postern.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs one short-lived program to completion, with a hard time limit: curl, python3, openssl req,
 * doveadm, promtool, {@code java -jar postern.jar --check-config}. Long-running programs are
 * {@code it/ServiceProcess}es; interactive ones (s_client) {@link OpensslTool}s.
 */
public final class ExternalCommand {

  private static final Duration STOP_GRACE = Duration.ofSeconds(5);

  private ExternalCommand() {}

  public static ProcessResult run(List<String> command, Duration timeout)
      throws IOException, InterruptedException, TimeoutException {
    return run(command, timeout, builder -> {});
  }

  /**
   * As {@link #run(List, Duration)}, after {@code setUp} has adjusted the process's environment
   * or working directory (not its redirects: stdin is /dev/null, stdout and stderr go to files).
   */
  public static ProcessResult run(List<String> command, Duration timeout,
      Consumer<ProcessBuilder> setUp) throws IOException, InterruptedException, TimeoutException {
    // Files instead of pipes: a chatty child can never block on a full pipe while we wait for it.
    Path stdout = Files.createTempFile("postern-test-out", ".txt");
    Path stderr = Files.createTempFile("postern-test-err", ".txt");
    try {
      ProcessBuilder builder = new ProcessBuilder(command);
      setUp.accept(builder);
      Process process = builder
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(stdout.toFile())
          .redirectError(stderr.toFile())
          .start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        ProcessTree.stop(process, STOP_GRACE);
        throw new TimeoutException(command + " did not finish within " + timeout
            + "; stdout so far: " + read(stdout) + "; stderr so far: " + read(stderr));
      }
      return new ProcessResult(process.exitValue(), read(stdout), read(stderr));
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  /** Runs a helper step (make a key, hash a password) that must work; returns its stdout. */
  public static String output(List<String> command, Duration timeout,
      Consumer<ProcessBuilder> setUp) throws Exception {
    ProcessResult result = run(command, timeout, setUp);
    if (result.exitCode() != 0) {
      // The program and its first argument only: a later one may be a password.
      throw new IOException(command.get(0) + (command.size() > 1 ? " " + command.get(1) : "")
          + " failed: " + result);
    }
    return result.stdout();
  }

  public static String output(List<String> command, Duration timeout) throws Exception {
    return output(command, timeout, builder -> {});
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.ISO_8859_1);
  }
}
