package io.postern.config;

import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Configuration text loaded as Postern loads its file, for the config tests. */
final class ConfigText {

  private ConfigText() {}

  /** Writes {@code yaml} to {@code dir}/postern.yaml and loads it with {@code env}. */
  static PosternConfig load(Vertx vertx, Path dir, String yaml, Map<String, String> env)
      throws Exception {
    Path file = dir.resolve("postern.yaml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(vertx, file, env).await();
  }

  /** The errors an operator sees for {@code yaml}; fails if it is accepted. */
  static List<String> errors(Vertx vertx, Path dir, String yaml) {
    try {
      load(vertx, dir, yaml, Map.of());
    } catch (ConfigException e) {
      return e.errors().stream().map(ConfigError::toString).toList();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("configuration was accepted");
  }
}
