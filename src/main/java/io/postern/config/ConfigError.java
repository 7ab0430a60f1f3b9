package io.postern.config;

/** One problem in the configuration, with the dotted key it is about (e.g. {@code limits.idle-timeout}). */
public record ConfigError(String key, String message) {

  @Override
  public String toString() {
    return key + ": " + message;
  }
}
