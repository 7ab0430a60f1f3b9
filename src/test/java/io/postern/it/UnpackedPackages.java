package io.postern.it;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Mail servers whose Debian packages cannot be installed next to Dovecot's (Courier, Cyrus: they
 * conflict with dovecot-imapd/-pop3d), unpacked with {@code dpkg -x} by {@code .ci/interop-packages}
 * into {@code /opt/postern-interop/root} (or {@code $POSTERN_INTEROP_DIR/root}), and run as if
 * installed: a shell script in a private mount namespace ({@code unshare -m}) first lays the
 * unpacked {@code usr} (and the test's own {@code etc}) over the system's with read-only overlays,
 * so the paths compiled into these programs ({@code /usr/lib/courier/...},
 * {@code /etc/courier/authdaemonrc}, {@code /run/courier/authdaemon/socket}) resolve to the
 * package and to the test's files, while nothing outside the namespace changes.
 *
 * <p>Needs root (mounts) and the unpacked packages; without them the test skips, or fails on CI.
 */
final class UnpackedPackages {

  private static final String DEFAULT_DIR = "/opt/postern-interop";

  private final Path root;

  private UnpackedPackages(Path root) {
    this.root = root;
  }

  /**
   * The unpacked packages, after checking that each of {@code programs} (paths as installed,
   * e.g. {@code /usr/lib/cyrus/bin/master}) is there, that we are root and that unshare exists.
   */
  static UnpackedPackages require(String server, String... programs) {
    String dir = System.getenv().getOrDefault("POSTERN_INTEROP_DIR", DEFAULT_DIR);
    Path root = Path.of(dir, "root").toAbsolutePath().normalize();
    for (String program : programs) {
      Path unpacked = root.resolve(program.substring(1));
      if (!Files.isExecutable(unpacked)) {
        RealParts.missing(server + " (" + unpacked + " is missing; as root run .ci/interop-packages"
            + (dir.equals(DEFAULT_DIR) ? "" : " " + dir) + ")");
      }
    }
    RealParts.require("unshare");
    if (!ServiceProcess.isRoot()) {
      RealParts.missing("root: " + server + " runs in a mount namespace of its own");
    }
    if (!root.toString().matches("[A-Za-z0-9/._+-]+")) {
      throw new IllegalArgumentException("POSTERN_INTEROP_DIR must be a plain path: " + root);
    }
    return new UnpackedPackages(root);
  }

  /**
   * The command that runs {@code script} (a POSIX shell script the server's harness wrote) in a
   * new mount namespace, after these mounts: the package's {@code usr} over {@code /usr}; when
   * {@code etc} is given, it and the package's {@code etc} over {@code /etc}; when {@code run} is
   * given, it in place of {@code /run}. {@code beforeEtc} runs between the first two (it may use
   * the package's programs and still write files that the {@code etc} overlay will show). The
   * script's process keeps its pid ({@code exec}), so stopping it by pid stops the server.
   */
  ProcessBuilder launcher(Path script, String body, String beforeEtc, Path etc, Path run)
      throws IOException {
    List<String> lines = new ArrayList<>(List.of(
        "#!/bin/sh",
        "# Written by the interop test harness; runs in a mount namespace of its own (unshare -m).",
        "set -eu",
        "mount -t overlay postern-it -o lowerdir=" + root.resolve("usr") + ":/usr /usr"));
    lines.add(beforeEtc);
    if (etc != null) {
      lines.add("mount -t overlay postern-it -o lowerdir=" + etc + ":" + root.resolve("etc")
          + ":/etc /etc");
    }
    if (run != null) {
      lines.add("mount --bind " + run + " /run");
    }
    lines.add(body);
    Files.writeString(script, String.join("\n", lines) + "\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    // --propagation private: none of these mounts leaks back into the system's namespace.
    // setsid: a session and process group of its own, as a service manager gives a server.
    // Cyrus's master signals its whole process group when it stops; in ours, that reached the
    // Dovecot of any other test running at the time and killed its sessions. setsid does not
    // fork here (a child of the JVM leads no group), so the server keeps the pid we stop.
    return new ProcessBuilder(RealParts.require("setsid").toString(),
        RealParts.require("unshare").toString(), "--mount",
        "--propagation", "private", "/bin/sh", script.toString());
  }

  /**
   * {@code dir}, empty, made absolute and reachable by the servers' unprivileged users (JUnit's
   * {@code @TempDir} is rwx------): each ancestor under java.io.tmpdir gets o+x.
   */
  static Path serverDirectory(Path dir, String server) throws IOException {
    Path root = ServiceProcess.configurableDirectory(dir, server);
    try (var entries = Files.list(root)) {
      if (entries.findAny().isPresent()) {
        throw new IllegalArgumentException(server + " directory must be empty: " + root);
      }
    }
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path temp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
    for (Path ancestor = root.getParent(); ancestor != null; ancestor = ancestor.getParent()) {
      var permissions = Files.getPosixFilePermissions(ancestor);
      if (permissions.contains(PosixFilePermission.OTHERS_EXECUTE)) {
        continue;
      }
      if (!ancestor.startsWith(temp) || ancestor.equals(temp)) {
        throw new AccessDeniedException(ancestor.toString(), null,
            server + "'s users could not reach " + root + "; use a directory under " + temp);
      }
      permissions.add(PosixFilePermission.OTHERS_EXECUTE);
      Files.setPosixFilePermissions(ancestor, permissions);
    }
    return root;
  }
}
