package io.postern.backend;

import io.postern.config.BackendConfig;
import io.postern.config.ConfigError;
import io.postern.config.PosternConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads each backend's master password ({@code backends.<name>.master.password-file}) when the
 * configuration is loaded, at start and at every reload, as the admin token file is read: the
 * file's text without surrounding white space, at most {@link #MAX_BYTES}. Blocking: called
 * where the configuration is loaded, never on an event loop.
 */
public final class MasterPasswordFiles {

  private static final Logger LOG = LoggerFactory.getLogger(MasterPasswordFiles.class);
  /** A password is one line; anything larger is not a password file. */
  static final int MAX_BYTES = 4096;

  private MasterPasswordFiles() {}

  /** {@code config} with every backend master's password read; problems go to {@code errors}. */
  public static PosternConfig load(PosternConfig config, List<ConfigError> errors) {
    Map<String, BackendConfig> backends = new LinkedHashMap<>();
    boolean any = false;
    for (BackendConfig backend : config.backends().values()) {
      BackendConfig.Master master = backend.master();
      if (master == null || master.passwordFile() == null) {
        backends.put(backend.name(), backend);
        continue;
      }
      any = true;
      try {
        backends.put(backend.name(),
            backend.withMaster(master.withPassword(read(master.passwordFile()))));
        warnIfReadable(backend.name(), master.passwordFile());
      } catch (IOException e) {
        errors.add(new ConfigError("backends." + backend.name() + ".master.password-file",
            e.getMessage()));
        backends.put(backend.name(), backend);
      }
    }
    return any ? config.withBackends(backends) : config;
  }

  static String read(Path file) throws IOException {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      throw new IOException("cannot read " + file + ": " + e.getClass().getSimpleName()
          + (e.getMessage() == null ? "" : " " + e.getMessage()));
    }
    if (bytes.length > MAX_BYTES) {
      throw new IOException(file + " is larger than " + MAX_BYTES + " bytes: not a password");
    }
    String text = new String(bytes, StandardCharsets.UTF_8).strip();
    java.util.Arrays.fill(bytes, (byte) 0);
    if (text.isEmpty()) {
      throw new IOException(file + " is empty; put the backend master user's password in it");
    }
    if (text.chars().anyMatch(c -> c == 0 || c == '\r' || c == '\n')) {
      throw new IOException(file + " holds more than one line; a password is one line");
    }
    return text;
  }

  private static void warnIfReadable(String backend, Path file) {
    try {
      PosixFileAttributeView view = Files.getFileAttributeView(file,
          PosixFileAttributeView.class);
      if (view == null) {
        return;
      }
      Set<PosixFilePermission> perms = view.readAttributes().permissions();
      if (perms.contains(PosixFilePermission.GROUP_READ)
          || perms.contains(PosixFilePermission.OTHERS_READ)) {
        LOG.warn("backends.{}.master.password-file {} is readable by its group or others;"
            + " chmod 600 it", backend, file);
      }
    } catch (IOException e) {
      // It was just read: the permissions are a warning only.
    }
  }
}
