package io.postern.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the configuration's sizes: a whole number and a binary unit, e.g. {@code 512KiB},
 * {@code 256MiB}, {@code 1GiB} (also {@code k}, {@code m}, {@code g} as the JVM writes them);
 * a bare number is bytes.
 */
public final class Sizes {

  private static final Pattern FORM =
      Pattern.compile("(\\d{1,12})\\s*(|b|k|kib|kb|m|mib|mb|g|gib|gb)", Pattern.CASE_INSENSITIVE);

  private Sizes() {}

  public static long parse(String text) {
    Matcher m = FORM.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a size (use a number and KiB, MiB or GiB, e.g. 256MiB)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "k", "kib", "kb" -> n << 10;
      case "m", "mib", "mb" -> n << 20;
      case "g", "gib", "gb" -> n << 30;
      default -> n;
    };
  }

  /** In the largest whole binary unit, for messages: {@code 256 MiB}, {@code 1 GiB}. */
  public static String format(long bytes) {
    if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) {
      return (bytes >> 30) + " GiB";
    }
    if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
      return (bytes >> 20) + " MiB";
    }
    if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) {
      return (bytes >> 10) + " KiB";
    }
    return bytes + " bytes";
  }
}
