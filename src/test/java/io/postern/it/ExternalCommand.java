package io.postern.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/** Runs one short-lived program to completion, with a hard time limit. */
final class ExternalCommand {

  private ExternalCommand() {}

  static Clients.ProcessResult run(List<String> command, Duration timeout) throws IOException, InterruptedException, TimeoutException {
    return run(command, timeout, environment -> {});
  }

  static Clients.ProcessResult run(List<String> command, Duration timeout, Consumer<Map<String, String>> environment)
      throws IOException, InterruptedException, TimeoutException {
    // Files instead of pipes: a chatty child can never block on a full pipe while we wait for it.
    Path stdout = Files.createTempFile("postern-it-out", ".txt");
    Path stderr = Files.createTempFile("postern-it-err", ".txt");
    try {
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(stdout.toFile())
          .redirectError(stderr.toFile());
      environment.accept(builder.environment());
      Process process = builder.start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        kill(process);
        throw new TimeoutException(command + " did not finish within " + timeout
            + "; stdout so far: " + read(stdout) + "; stderr so far: " + read(stderr));
      }
      return new Clients.ProcessResult(process.exitValue(), read(stdout), read(stderr));
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  /** Ends a process we started and whatever it started, by pid, politely first. */
  static void kill(Process process) throws InterruptedException {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    if (!process.waitFor(5, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
    }
    children.forEach(ProcessHandle::destroyForcibly);
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.ISO_8859_1);
  }
}
