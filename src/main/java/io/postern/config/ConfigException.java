package io.postern.config;

import java.util.List;
import java.util.stream.Collectors;

/** The configuration cannot be used; carries every problem found, each naming its key. */
public final class ConfigException extends Exception {

  private final List<ConfigError> errors;

  public ConfigException(List<ConfigError> errors) {
    super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("; ")));
    this.errors = List.copyOf(errors);
  }

  public ConfigException(String key, String message) {
    this(List.of(new ConfigError(key, message)));
  }

  public List<ConfigError> errors() {
    return errors;
  }
}
