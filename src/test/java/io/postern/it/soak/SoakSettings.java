package io.postern.it.soak;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one soak run does, from {@code -Dsoak.*} system properties (the {@code soak} Maven profile
 * passes them on): how long the load runs, how many clients of each kind run at once, how often
 * Dovecot or the auth service goes down, and the seed that makes the mail and the choices
 * repeatable.
 *
 * @param duration how long the mixed load runs ({@code soak.duration}, e.g. {@code 60m})
 * @param clients real-client workers (Python imaplib/poplib and curl), each from its own address
 * @param idlers IMAP IDLE workers, each owning one mailbox that grows while it idles
 * @param guessers workers trying wrong passwords and unknown users
 * @param flooders workers opening silent, half-open TLS and garbage connections in bursts
 * @param outageEvery mean time between two outages (Dovecot and the auth service alternate)
 * @param seed for the mail and every random choice
 * @param reportDir where {@code report.txt} and the logs of the run go
 * @param jvmOptions Postern's JVM options (as {@code JAVA_TOOL_OPTIONS})
 */
record SoakSettings(Duration duration, int clients, int idlers, int guessers, int flooders,
    Duration outageEvery, long seed, Path reportDir, String jvmOptions) {

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  SoakSettings {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("soak.duration must be positive: " + duration);
    }
    if (clients < 1 || idlers < 0 || guessers < 0 || flooders < 0) {
      throw new IllegalArgumentException("soak.clients must be at least 1, the others at least 0");
    }
  }

  static SoakSettings fromSystemProperties() {
    return new SoakSettings(
        duration("soak.duration", "60m"),
        integer("soak.clients", 6),
        integer("soak.idlers", 3),
        integer("soak.guessers", 2),
        integer("soak.flooders", 2),
        duration("soak.outage-every", "45s"),
        Long.parseLong(property("soak.seed", Long.toString(System.nanoTime() & 0xffffffL))),
        Path.of(property("soak.report-dir", "target/soak")).toAbsolutePath(),
        property("soak.jvm-options", "-Xms16m -Xmx256m"));
  }

  private static String property(String name, String fallback) {
    String value = System.getProperty(name);
    // An unset Maven property arrives as the literal "${...}" or as an empty string.
    return value == null || value.isBlank() || value.startsWith("${") ? fallback : value.strip();
  }

  private static int integer(String name, int fallback) {
    String value = property(name, Integer.toString(fallback));
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number: " + value, e);
    }
  }

  static Duration duration(String name, String fallback) {
    String value = property(name, fallback).toLowerCase(Locale.ROOT);
    Matcher m = DURATION.matcher(value);
    if (!m.matches()) {
      throw new IllegalArgumentException(name + " must look like 90s, 5m or 1h: " + value);
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }
}
