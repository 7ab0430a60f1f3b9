package io.postern.it.soak;

import io.postern.testing.ExternalCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * Postern's process as the kernel sees it ({@code /proc/PID}: resident memory, open file
 * descriptors, threads) and a full GC on request ({@code jcmd PID GC.run}), so that what is left
 * after the load can be compared with what was there before it.
 */
final class ProcessProbe {

  /** One look at the process. */
  record Sample(long rssKib, int fds, int threads) {}

  private static final Duration JCMD_TIMEOUT = Duration.ofSeconds(60);

  private final long pid;
  private final Path proc;

  ProcessProbe(long pid) {
    this.pid = pid;
    this.proc = Path.of("/proc", Long.toString(pid));
  }

  Sample sample() throws IOException {
    long rss = -1;
    int threads = -1;
    for (String line : Files.readAllLines(proc.resolve("status"))) {
      if (line.startsWith("VmRSS:")) {
        rss = Long.parseLong(line.replaceAll("\\D+", ""));
      } else if (line.startsWith("Threads:")) {
        threads = Integer.parseInt(line.replaceAll("\\D+", ""));
      }
    }
    return new Sample(rss, fds(), threads);
  }

  int fds() throws IOException {
    try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
      return (int) fds.count();
    }
  }

  /** What each open descriptor points at, for a report that says which kind was left open. */
  List<String> fdTargets() throws IOException {
    try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
      return fds.map(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().replaceAll("\\[\\d+\\]", "");
        } catch (IOException e) {
          return "gone";
        }
      }).toList();
    }
  }

  /** A full collection, as {@code jcmd PID GC.run} asks for it (System.gc()). */
  void collectGarbage() throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    ExternalCommand.output(List.of(jcmd.toString(), Long.toString(pid), "GC.run"), JCMD_TIMEOUT);
  }
}
