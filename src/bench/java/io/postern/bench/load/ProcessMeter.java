package io.postern.bench.load;

import io.postern.testing.ExternalCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The proxy's processes as the kernel sees them: CPU time (utime + stime of
 * {@code /proc/PID/stat}, every process of the proxy summed: nginx's master, workers and auth
 * service), memory ({@code /proc/PID/smaps_rollup}), and for a JVM the heap after a full GC
 * ({@code jcmd PID GC.run}, then {@code GC.heap_info}).
 */
final class ProcessMeter {

  /** Resident and proportional set size, summed over the processes. */
  record Memory(long rssKib, long pssKib) {}

  private static final Duration JCMD_TIMEOUT = Duration.ofSeconds(120);
  private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total \\d+K, used (\\d+)K");
  // Linux's USER_HZ, which /proc/PID/stat counts in, is 100 on every architecture Java runs on.
  private static final long NANOS_PER_TICK = 10_000_000L;

  private final Supplier<List<Long>> pids;

  /** {@code pids}: asked at every reading, so workers started later are counted. */
  ProcessMeter(Supplier<List<Long>> pids) {
    this.pids = pids;
  }

  /** CPU time the processes have used so far, in nanoseconds (10 ms resolution). */
  long cpuNanos() {
    long ticks = 0;
    for (long pid : pids.get()) {
      ticks += ticks(pid);
    }
    return ticks * NANOS_PER_TICK;
  }

  Memory memory() throws IOException {
    long rss = 0;
    long pss = 0;
    for (long pid : pids.get()) {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup"))) {
        if (line.startsWith("Rss:")) {
          rss += Long.parseLong(line.replaceAll("\\D+", ""));
        } else if (line.startsWith("Pss:")) {
          pss += Long.parseLong(line.replaceAll("\\D+", ""));
        }
      }
    }
    return new Memory(rss, pss);
  }

  /** Open descriptors of the processes. */
  int openFiles() throws IOException {
    int open = 0;
    for (long pid : pids.get()) {
      try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
        open += (int) fds.count();
      }
    }
    return open;
  }

  /** Full GC in the JVM {@code pid}, then its heap in use, in KiB; empty if jcmd cannot tell. */
  static OptionalLong heapAfterGcKib(long pid) throws Exception {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    ExternalCommand.output(List.of(jcmd, Long.toString(pid), "GC.run"), JCMD_TIMEOUT);
    String info = ExternalCommand.output(List.of(jcmd, Long.toString(pid), "GC.heap_info"),
        JCMD_TIMEOUT);
    Matcher used = HEAP_USED.matcher(info);
    return used.find() ? OptionalLong.of(Long.parseLong(used.group(1))) : OptionalLong.empty();
  }

  /** {@code pid} and every process below it, as {@code /proc/PID/task/TID/children} lists them. */
  static List<Long> withDescendants(long pid) {
    return ProcessHandle.of(pid).map(handle -> Stream.concat(Stream.of(pid),
        handle.descendants().map(ProcessHandle::pid)).toList()).orElse(List.of());
  }

  private static long ticks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) may hold blanks; the fields after its ')' are fixed.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    } catch (IOException gone) {
      return 0;
    }
  }
}
