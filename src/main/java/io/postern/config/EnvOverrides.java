package io.postern.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@code POSTERN_*} environment variables on top of the YAML tree, so containers can change
 * one value without a new file. {@code __} separates levels, a single {@code _} stands for the
 * {@code -} in a key and a number indexes a list:
 * {@code POSTERN_LIMITS__IDLE_TIMEOUT=45m} sets {@code limits.idle-timeout},
 * {@code POSTERN_LISTENERS__0__PORT=10143} the first listener's port.
 *
 * <p>The environment is shared with the launcher, the systemd unit and container images, which
 * carry variables such as {@code POSTERN_JAVA_OPTS} or {@code POSTERN_HEAP}: a variable whose
 * first segment is not a top-level section of the file is not a configuration key and is left
 * alone. Inside a section every key is checked as in the file, so a typo still stops Postern.
 */
final class EnvOverrides {

  static final String PREFIX = "POSTERN_";

  /** The top-level keys {@code ConfigParser} reads; only these start a configuration key path. */
  static final Set<String> SECTIONS =
      Set.of("listeners", "tls", "auth", "backends", "limits", "admin", "logging");

  private static final Logger log = LoggerFactory.getLogger(EnvOverrides.class);

  /**
   * What the environment set: the problems it had, and for each key it set (in the parser's
   * spelling, {@code listeners[0].port}) the variable that set it, so that the parser's errors
   * about that key can name the variable.
   */
  record Result(List<ConfigError> errors, Map<String, String> variableByKey) {}

  private EnvOverrides() {}

  static Result apply(JsonObject root, Map<String, String> env) {
    List<ConfigError> errors = new ArrayList<>();
    Map<String, String> variableByKey = new LinkedHashMap<>();
    // Sorted, so that the outcome does not depend on the environment's order.
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      if (!e.getKey().startsWith(PREFIX) || e.getKey().length() == PREFIX.length()) {
        continue;
      }
      String[] path = e.getKey().substring(PREFIX.length()).toLowerCase(Locale.ROOT).split("__");
      for (int i = 0; i < path.length; i++) {
        path[i] = path[i].replace('_', '-');
      }
      if (!SECTIONS.contains(path[0]) && path.length > 1) {
        // POSTERN_LIMTS__IDLE_TIMEOUT is a key path with a misspelt section, not a launcher's.
        errors.add(new ConfigError(e.getKey(), "'" + path[0] + "' is not a configuration"
            + " section (" + String.join(", ", new java.util.TreeSet<>(SECTIONS)) + ")"));
        continue;
      }
      if (!SECTIONS.contains(path[0])) {
        log.debug("{} is not a configuration key path (no section '{}'); left to the launcher",
            e.getKey(), path[0]);
        continue;
      }
      String problem = set(root, path, e.getValue());
      if (problem != null) {
        errors.add(new ConfigError(e.getKey(), problem));
      } else {
        variableByKey.put(parserKey(path), e.getKey());
      }
    }
    return new Result(errors, variableByKey);
  }

  /** Names an error about a key the environment set after the variable that set it. */
  static List<ConfigError> nameVariables(List<ConfigError> errors, Map<String, String> byKey) {
    return errors.stream()
        .map(err -> byKey.containsKey(err.key())
            ? new ConfigError(err.key(), err.message() + " (set by " + byKey.get(err.key()) + ")")
            : err)
        .toList();
  }

  /** {@code [listeners, 0, port]} -> {@code listeners[0].port}, as ConfigSection names keys. */
  private static String parserKey(String[] path) {
    StringBuilder key = new StringBuilder(path[0]);
    for (int i = 1; i < path.length; i++) {
      key.append(isIndex(path[i]) ? "[" + path[i] + "]" : "." + path[i]);
    }
    return key.toString();
  }

  private static String set(JsonObject root, String[] path, String value) {
    Object node = root;
    for (int i = 0; i < path.length - 1; i++) {
      Object next = child(node, path[i]);
      if (next == null) {
        if (!(node instanceof JsonObject obj) || isIndex(path[i + 1])) {
          return "cannot set it: " + String.join(".", path) + " has no such list entry in the file";
        }
        next = new JsonObject();
        obj.put(path[i], next);
      }
      if (!(next instanceof JsonObject) && !(next instanceof JsonArray)) {
        return "cannot set it: " + path[i] + " is a single value";
      }
      node = next;
    }
    String last = path[path.length - 1];
    if (node instanceof JsonObject obj) {
      obj.put(last, value);
      return null;
    }
    JsonArray array = (JsonArray) node;
    if (!isIndex(last) || Integer.parseInt(last) >= array.size()) {
      return "cannot set it: no list entry " + last;
    }
    array.set(Integer.parseInt(last), value);
    return null;
  }

  private static Object child(Object node, String name) {
    if (node instanceof JsonObject obj) {
      return obj.getValue(name);
    }
    JsonArray array = (JsonArray) node;
    if (!isIndex(name) || Integer.parseInt(name) >= array.size()) {
      return null;
    }
    return array.getValue(Integer.parseInt(name));
  }

  private static boolean isIndex(String s) {
    return !s.isEmpty() && s.length() < 6 && s.chars().allMatch(Character::isDigit);
  }
}
