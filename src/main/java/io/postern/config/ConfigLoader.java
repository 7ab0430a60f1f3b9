package io.postern.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Reads the YAML file through vertx-config, applies {@code POSTERN_*} overrides, and parses. */
public final class ConfigLoader {

  private ConfigLoader() {}

  public static Future<PosternConfig> load(Vertx vertx, Path file, Map<String, String> env) {
    return vertx.fileSystem().exists(file.toString()).compose(exists -> {
      if (!exists) {
        return Future.failedFuture(new ConfigException("--config",
            "file " + file + " does not exist (run from the directory that holds conf/, or pass"
                + " --config PATH)"));
      }
      ConfigStoreOptions yaml = new ConfigStoreOptions()
          .setType("file")
          .setFormat("yaml")
          .setConfig(new JsonObject().put("path", file.toString()));
      ConfigRetriever retriever = ConfigRetriever.create(vertx,
          new ConfigRetrieverOptions().setScanPeriod(-1).addStore(yaml));
      return retriever.getConfig()
          .recover(e -> Future.failedFuture(new ConfigException("--config",
              "cannot read " + file + " as YAML: " + firstLine(e))))
          .eventually(retriever::close)
          .compose(json -> parse(json, env));
    });
  }

  /** For tests and tools: parse a tree that is already in memory. */
  public static Future<PosternConfig> parse(JsonObject json, Map<String, String> env) {
    JsonObject copy = json.copy();
    if (!copy.containsKey("listeners") && env.keySet().stream()
        .anyMatch(k -> k.startsWith(EnvOverrides.PREFIX + "LISTENERS__"))) {
      // So that POSTERN_LISTENERS__0__PORT also works when the file keeps the default four.
      copy.put("listeners", ConfigParser.defaultListenersJson());
    }
    EnvOverrides.Result fromEnv = EnvOverrides.apply(copy, env);
    if (!fromEnv.errors().isEmpty()) {
      return Future.failedFuture(new ConfigException(fromEnv.errors()));
    }
    try {
      return Future.succeededFuture(ConfigParser.parse(copy));
    } catch (ConfigException e) {
      return Future.failedFuture(new ConfigException(
          EnvOverrides.nameVariables(e.errors(), fromEnv.variableByKey())));
    }
  }

  private static String firstLine(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
