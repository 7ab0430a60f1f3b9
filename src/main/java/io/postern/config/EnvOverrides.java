package io.postern.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Applies {@code POSTERN_*} environment variables on top of the YAML tree, so containers can change
 * one value without a new file. {@code __} separates levels, a single {@code _} stands for the
 * {@code -} in a key and a number indexes a list:
 * {@code POSTERN_LIMITS__IDLE_TIMEOUT=45m} sets {@code limits.idle-timeout},
 * {@code POSTERN_LISTENERS__0__PORT=10143} the first listener's port.
 */
final class EnvOverrides {

  static final String PREFIX = "POSTERN_";

  private EnvOverrides() {}

  static List<ConfigError> apply(JsonObject root, Map<String, String> env) {
    List<ConfigError> errors = new ArrayList<>();
    // Sorted, so that the outcome does not depend on the environment's order.
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      if (!e.getKey().startsWith(PREFIX) || e.getKey().length() == PREFIX.length()) {
        continue;
      }
      String[] path = e.getKey().substring(PREFIX.length()).toLowerCase(Locale.ROOT).split("__");
      for (int i = 0; i < path.length; i++) {
        path[i] = path[i].replace('_', '-');
      }
      String problem = set(root, path, e.getValue());
      if (problem != null) {
        errors.add(new ConfigError(e.getKey(), problem));
      }
    }
    return errors;
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
