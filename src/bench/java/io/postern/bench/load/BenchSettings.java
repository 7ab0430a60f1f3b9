package io.postern.bench.load;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * What one benchmark run does, from {@code -Dbench.*} (README, Performance, Benchmark). The
 * defaults are the full run; {@link #smoke} is the CI run that only proves every phase works.
 *
 * @param logins logins measured per variant
 * @param warmupLogins logins of each variant just after start: the "first run" figure
 * @param jitLogins unmeasured logins of each variant after the first run, before the measured
 *     ones: HotSpot's C2 was still compiling Netty's and Postern's login path after 7 000
 *     logins (JFR: 3 600 compilations in 40 s), so fewer would measure the JIT, not the proxy
 * @param concurrency client threads for the login phases
 * @param fetchMib size of the message fetched and retrieved in one stream
 * @param streamWarmups unmeasured transfers of that message per protocol before the measured
 *     ones: the relay's copy loop is compiled by C2 only after about a GiB (1 st transfer
 *     3.2 s/GiB, after 20: 1.3 s/GiB, profiled)
 * @param noops NOOP round trips timed on one session
 * @param sessions the IDLE session counts memory is measured at; "max" adds the most the
 *     open-file limit lets the proxy hold
 * @param key rsa (RSA-2048) or ecdsa (P-256): the proxy's only certificate
 * @param nginx also run every phase against nginx's mail module, for the ratios
 * @param jvmOptions added to the launcher's defaults (POSTERN_JAVA_OPTS); empty: the launcher's
 * @param idleHoldSeconds how long the IDLE sessions are held, all open, before DONE/LOGOUT
 * @param setupConcurrency IDLE sessions being set up at once
 */
record BenchSettings(int logins, int warmupLogins, int jitLogins, int concurrency, int fetchMib, int streamWarmups, int noops,
    List<String> sessions, String key, boolean nginx, String jvmOptions, int idleHoldSeconds,
    int setupConcurrency, Path reportDir) {

  static final String MAX = "max";

  BenchSettings {
    if (!key.equals("rsa") && !key.equals("ecdsa")) {
      throw new IllegalArgumentException("bench.key must be rsa or ecdsa: " + key);
    }
    sessions = List.copyOf(sessions);
    for (String level : sessions) {
      if (!level.equals(MAX) && !level.matches("\\d+")) {
        throw new IllegalArgumentException("bench.sessions: a number or max: " + level);
      }
    }
  }

  static BenchSettings fromSystemProperties() {
    return new BenchSettings(
        integer("bench.logins", 1000), integer("bench.warmup-logins", 250),
        integer("bench.jit-logins", 2500),
        integer("bench.concurrency", 16), integer("bench.fetch-mib", 64),
        integer("bench.stream-warmups", 16),
        integer("bench.noops", 5000),
        list("bench.sessions", "1000,2000,10000,max"), text("bench.key", "rsa"),
        Boolean.parseBoolean(text("bench.nginx", "false")), text("bench.jvm-options", ""),
        integer("bench.idle-hold-seconds", 10), integer("bench.setup-concurrency", 64),
        Path.of(text("bench.report-dir", "target/bench")));
  }

  /** The CI smoke run: every phase, tiny numbers. */
  static BenchSettings smoke(Path reportDir, boolean nginx) {
    return new BenchSettings(5, 5, 0, 4, 1, 0, 50, List.of("20"), "rsa", nginx, "", 1, 16,
        reportDir);
  }

  List<Integer> fixedSessionLevels() {
    return sessions.stream().filter(level -> !level.equals(MAX)).map(Integer::parseInt)
        .sorted().toList();
  }

  boolean wantsMax() {
    return sessions.contains(MAX);
  }

  private static int integer(String name, int fallback) {
    String value = text(name, Integer.toString(fallback));
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number: " + value, e);
    }
  }

  private static List<String> list(String name, String fallback) {
    return Arrays.stream(text(name, fallback).split(",")).map(String::strip)
        .filter(s -> !s.isEmpty()).toList();
  }

  // Maven passes an unset -D through as an empty string or as the literal "${...}".
  private static String text(String name, String fallback) {
    String value = System.getProperty(name);
    return value == null || value.isBlank() || value.startsWith("${") ? fallback : value.strip();
  }
}
