package io.postern.demo;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Runs a real client (curl, python3) as a process with a hard timeout. */
final class ExternalCommand {

  /** What the process produced. */
  record Result(int exitCode, byte[] stdout, String stderr) {
    String stdoutText() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    List<String> lines() {
      return stdoutText().lines().toList();
    }
  }

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private ExternalCommand() {}

  /**
   * Skips the calling test when {@code tool} cannot run, unless CI=true: there a missing client
   * must fail the build rather than silently shrink the test suite.
   */
  static void require(String tool, String... versionCommand) {
    String problem;
    try {
      Result result = run(List.of(versionCommand));
      problem = result.exitCode() == 0 ? null : tool + " exited with " + result.exitCode();
    } catch (IOException e) {
      problem = tool + " is not installed: " + e.getMessage();
    }
    if (problem == null) {
      return;
    }
    if ("true".equals(System.getenv("CI"))) {
      fail(problem);
    }
    Assumptions.abort(problem);
  }

  static Result run(String... command) throws IOException {
    return run(List.of(command));
  }

  /** Output goes to files, not pipes, so a chatty process can never block on a full pipe. */
  static Result run(List<String> command) throws IOException {
    Path stdout = Files.createTempFile("postern-demo-", ".out");
    Path stderr = Files.createTempFile("postern-demo-", ".err");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
              .redirectOutput(stdout.toFile())
              .redirectError(stderr.toFile())
              .start();
      boolean finished;
      try {
        finished = process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        finished = false;
      }
      if (!finished) {
        process.destroyForcibly();
        fail(
            command
                + " did not finish within "
                + TIMEOUT
                + "; stderr: "
                + Files.readString(stderr));
      }
      return new Result(process.exitValue(), Files.readAllBytes(stdout), Files.readString(stderr));
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }
}
