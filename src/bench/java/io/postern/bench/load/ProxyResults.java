package io.postern.bench.load;

import java.util.List;

/** Everything one proxy measured in one run. */
record ProxyResults(String proxy, String certificate, LoginLoad.Result firstRun,
    List<LoginLoad.Result> full, List<LoginLoad.Result> resumed, StreamLoad.Transfer fetch,
    StreamLoad.Transfer retr, StreamLoad.Noops noops, List<MemoryPoint> memory,
    IdleCost idleCost, MaxSessions max) {

  /** The proxy's memory with {@code sessions} IDLE sessions held; heap -1 when not a JVM. */
  record MemoryPoint(int sessions, long rssKib, long pssKib, long heapAfterGcKib,
      int openFiles) {}

  /**
   * The proxy's CPU for {@code sessions} IDLE sessions: set-up (TLS, LOGIN, SELECT, IDLE), hold
   * ({@code holdSeconds} with all of them open), DONE and LOGOUT.
   */
  record IdleCost(int sessions, long setupNanos, long holdNanos, int holdSeconds,
      long endNanos) {

    double millisPerSession() {
      return sessions == 0 ? Double.NaN : (setupNanos + holdNanos + endNanos) / 1e6 / sessions;
    }
  }

  /**
   * The most IDLE sessions held: {@code byDescriptors} is what the open-file limit leaves room
   * for (max-connections: auto), {@code refusal} what stopped the ramp ("" if nothing did).
   */
  record MaxSessions(int held, int byDescriptors, String refusal) {}

  /** Mean CPU per login over the four full-handshake variants. */
  double fullLoginMillis() {
    return full.stream().mapToDouble(LoginLoad.Result::cpuMillisPerLogin).average()
        .orElse(Double.NaN);
  }

  double resumedLoginMillis() {
    return resumed.stream().mapToDouble(LoginLoad.Result::cpuMillisPerLogin).average()
        .orElse(Double.NaN);
  }

  /** The point at {@code sessions} IDLE sessions, or null. */
  MemoryPoint memoryAt(int sessions) {
    return memory.stream().filter(p -> p.sessions() == sessions).findFirst().orElse(null);
  }

  /**
   * PSS added per IDLE session, in KiB: the slope from the first point with sessions to the last
   * (the most sessions held).
   */
  double pssPerSessionKib() {
    List<MemoryPoint> loaded = memory.stream().filter(p -> p.sessions() > 0).toList();
    if (loaded.size() < 2) {
      MemoryPoint zero = memoryAt(0);
      if (zero == null || loaded.isEmpty()) {
        return Double.NaN;
      }
      loaded = List.of(zero, loaded.get(0));
    }
    MemoryPoint first = loaded.get(0);
    MemoryPoint last = loaded.get(loaded.size() - 1);
    return (double) (last.pssKib() - first.pssKib()) / (last.sessions() - first.sessions());
  }

  /** The slope of the heap after GC, in KiB per session; NaN when not a JVM. */
  double heapPerSessionKib() {
    List<MemoryPoint> loaded = memory.stream().filter(p -> p.heapAfterGcKib() >= 0).toList();
    if (loaded.size() < 2) {
      return Double.NaN;
    }
    MemoryPoint first = loaded.stream().filter(p -> p.sessions() > 0).findFirst()
        .orElse(loaded.get(0));
    MemoryPoint last = loaded.get(loaded.size() - 1);
    if (last.sessions() == first.sessions()) {
      first = loaded.get(0);
    }
    return (double) (last.heapAfterGcKib() - first.heapAfterGcKib())
        / (last.sessions() - first.sessions());
  }
}
