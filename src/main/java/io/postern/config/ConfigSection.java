package io.postern.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Typed, error-collecting reads from one YAML mapping. Every read names its full key, so a problem
 * is reported as {@code limits.max-line: must be at least 1024}; reads never throw, they record the
 * error and return the default, so one run reports every problem at once.
 */
final class ConfigSection {

  private final String path;
  private final JsonObject json;
  private final List<ConfigError> errors;
  private final Set<String> read = new HashSet<>();

  ConfigSection(String path, JsonObject json, List<ConfigError> errors) {
    this.path = path;
    this.json = json == null ? new JsonObject() : json;
    this.errors = errors;
  }

  String key(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  boolean has(String name) {
    return json.containsKey(name) && json.getValue(name) != null;
  }

  void error(String name, String message) {
    errors.add(new ConfigError(key(name), message));
  }

  String string(String name, String fallback) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return fallback;
    }
    if (v instanceof String || v instanceof Number || v instanceof Boolean) {
      return v.toString();
    }
    error(name, "must be a single value");
    return fallback;
  }

  String requiredString(String name) {
    String v = string(name, null);
    if (v == null || v.isBlank()) {
      error(name, "is required");
      return null;
    }
    return v;
  }

  int integer(String name, int fallback, int min, int max) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min || n > max) {
        error(name, "must be between " + min + " and " + max + " (is " + n + ")");
        return fallback;
      }
      return n;
    } catch (NumberFormatException e) {
      error(name, "must be a whole number (is '" + v + "')");
      return fallback;
    }
  }

  boolean bool(String name, boolean fallback) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> {
        error(name, "must be true or false (is '" + v + "')");
        yield fallback;
      }
    };
  }

  Duration duration(String name, Duration fallback) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      return Durations.parse(v);
    } catch (IllegalArgumentException e) {
      error(name, e.getMessage());
      return fallback;
    }
  }

  /** A size such as {@code 256MiB}, in bytes, between {@code min} and {@code max}. */
  long size(String name, long fallback, long min, long max) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    try {
      long n = Sizes.parse(v);
      if (n < min || n > max) {
        error(name, "must be between " + Sizes.format(min) + " and " + Sizes.format(max)
            + " (is " + v.trim() + ")");
        return fallback;
      }
      return n;
    } catch (IllegalArgumentException e) {
      error(name, e.getMessage());
      return fallback;
    }
  }

  Path path(String name, Path fallback) {
    String v = string(name, null);
    if (v == null || v.equals("null")) {
      return fallback;
    }
    return Path.of(v);
  }

  /** An enum value written in lower case with dashes, e.g. {@code tls-only} for {@code TLS_ONLY}. */
  <E extends Enum<E>> E choice(String name, Class<E> type, E fallback) {
    String v = string(name, null);
    if (v == null) {
      return fallback;
    }
    String wanted = v.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (E e : type.getEnumConstants()) {
      if (e.name().equals(wanted)) {
        return e;
      }
    }
    List<String> allowed = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      allowed.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    error(name, "must be one of " + String.join(", ", allowed) + " (is '" + v + "')");
    return fallback;
  }

  ConfigSection section(String name) {
    read.add(name);
    Object v = json.getValue(name);
    if (v != null && !(v instanceof JsonObject)) {
      error(name, "must be a mapping of keys to values");
      v = null;
    }
    return new ConfigSection(key(name), (JsonObject) v, errors);
  }

  /** A list of mappings, each read by {@code reader}; null when the key is absent. */
  <T> List<T> sections(String name, Function<ConfigSection, T> reader) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray array)) {
      error(name, "must be a list");
      return null;
    }
    List<T> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      String itemPath = key(name) + "[" + i + "]";
      if (!(item instanceof JsonObject obj)) {
        errors.add(new ConfigError(itemPath, "must be a mapping of keys to values"));
        continue;
      }
      ConfigSection s = new ConfigSection(itemPath, obj, errors);
      T t = reader.apply(s);
      s.rejectUnknownKeys();
      if (t != null) {
        out.add(t);
      }
    }
    return out;
  }

  /** A list of single values; a lone value counts as a list of one. Null when absent. */
  List<String> strings(String name) {
    read.add(name);
    Object v = json.getValue(name);
    if (v == null) {
      return null;
    }
    List<String> out = new ArrayList<>();
    if (v instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        Object item = array.getValue(i);
        if (item == null || item instanceof JsonObject || item instanceof JsonArray) {
          errors.add(new ConfigError(key(name) + "[" + i + "]", "must be a single value"));
        } else {
          out.add(item.toString());
        }
      }
    } else if (v instanceof JsonObject) {
      error(name, "must be a list of values");
    } else {
      out.add(v.toString());
    }
    return out;
  }

  /** The names and sub-mappings of a mapping of mappings (e.g. {@code backends}). */
  Map<String, ConfigSection> children() {
    Map<String, ConfigSection> out = new java.util.LinkedHashMap<>();
    for (String name : json.fieldNames()) {
      read.add(name);
      Object v = json.getValue(name);
      if (v instanceof JsonObject obj) {
        out.put(name, new ConfigSection(key(name), obj, errors));
      } else {
        error(name, "must be a mapping of keys to values");
      }
    }
    return out;
  }

  /** String-to-string mapping (e.g. extra HTTP headers). */
  Map<String, String> stringMap(String name) {
    read.add(name);
    Object v = json.getValue(name);
    Map<String, String> out = new java.util.LinkedHashMap<>();
    if (v == null) {
      return out;
    }
    if (!(v instanceof JsonObject obj)) {
      error(name, "must be a mapping of names to values");
      return out;
    }
    for (String k : obj.fieldNames()) {
      Object item = obj.getValue(k);
      if (item == null || item instanceof JsonObject || item instanceof JsonArray) {
        errors.add(new ConfigError(key(name) + "." + k, "must be a single value"));
      } else {
        out.put(k, item.toString());
      }
    }
    return out;
  }

  /** Catches typos: a key nobody read is reported rather than silently ignored. */
  void rejectUnknownKeys() {
    for (String name : json.fieldNames()) {
      if (!read.contains(name)) {
        error(name, "unknown key");
      }
    }
  }
}
