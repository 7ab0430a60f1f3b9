package io.postern.config;

/** How log lines are written: {@code text} (key=value) or {@code json} (one object per line). */
public record LoggingConfig(Format format) {

  public static final LoggingConfig DEFAULT = new LoggingConfig(Format.TEXT);

  /** The shape of every log line on standard output. */
  public enum Format {
    TEXT,
    JSON
  }
}
