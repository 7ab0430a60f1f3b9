package io.postern.it;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * The rule for the real programs the interop tests drive: on CI (environment {@code CI=true}) a
 * missing one fails the test, because a skipped interop suite would look green while proving
 * nothing; on a developer's machine it skips the test with the apt command that fixes it.
 */
public final class RealParts {

  // sbin directories are searched too: a non-root PATH often lacks them, and dovecot lives there.
  private static final List<String> EXTRA_DIRECTORIES = List.of("/usr/local/sbin", "/usr/sbin", "/sbin");

  private static final Map<String, String> DEBIAN_PACKAGES = Map.ofEntries(
      Map.entry("dovecot", "dovecot-core dovecot-imapd dovecot-pop3d"),
      Map.entry("doveadm", "dovecot-core"),
      Map.entry("doveconf", "dovecot-core"),
      Map.entry("curl", "curl"),
      Map.entry("python3", "python3"),
      Map.entry("openssl", "openssl"),
      Map.entry("prometheus", "prometheus"),
      Map.entry("nginx", "nginx libnginx-mod-mail"),
      Map.entry("promtool", "prometheus"),
      Map.entry("unshare", "util-linux"),
      Map.entry("setsid", "util-linux"),
      Map.entry("slapd", "slapd"),
      Map.entry("slapadd", "slapd"),
      Map.entry("redis-server", "redis-server"));

  private RealParts() {}

  /**
   * Returns the absolute path of {@code command} found on the PATH (or in an sbin directory);
   * if there is none, fails the test on CI and skips it elsewhere.
   */
  public static Path require(String command) {
    Optional<Path> found = find(command);
    if (found.isPresent()) {
      return found.get();
    }
    String packages = DEBIAN_PACKAGES.get(command);
    return missing("'" + command + "' is not on the PATH"
        + (packages == null ? "" : " (Debian: apt-get install " + packages + ")"));
  }

  /** Fails on CI, skips elsewhere; never returns normally. The type parameter only eases callers. */
  public static <T> T missing(String what) {
    String message = "Interop test needs a real part that is missing: " + what;
    if ("true".equals(System.getenv("CI"))) {
      throw new AssertionError(message + " (CI=true, so this fails instead of skipping)");
    }
    Assumptions.abort(message);
    throw new IllegalStateException("unreachable: Assumptions.abort returned");
  }

  private static Optional<Path> find(String command) {
    List<String> directories = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      directories.addAll(List.of(path.split(File.pathSeparator)));
    }
    directories.addAll(EXTRA_DIRECTORIES);
    return directories.stream()
        .filter(directory -> !directory.isEmpty())
        .map(directory -> Path.of(directory, command))
        .filter(candidate -> Files.isRegularFile(candidate) && Files.isExecutable(candidate))
        .map(Path::toAbsolutePath)
        .findFirst();
  }
}
