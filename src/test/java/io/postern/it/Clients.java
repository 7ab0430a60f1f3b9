package io.postern.it;

import io.postern.testing.ExternalCommand;
import io.postern.testing.ProcessResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Real mail clients, run as processes: curl, and the Python scripts in {@code src/test/resources/clients/}. */
public final class Clients {

  private static final Map<String, Path> EXTRACTED_SCRIPTS = new ConcurrentHashMap<>();

  private Clients() {}

  /**
   * Runs curl with the given arguments. {@code -q} (ignore any ~/.curlrc), {@code --silent} and
   * {@code --show-error} go first so results don't depend on the user's setup and stderr holds
   * only real errors; pass {@code -v} to see the protocol exchange. Proxy variables are removed
   * from curl's environment because curl would route even imap:// and pop3:// through ALL_PROXY.
   */
  public static ProcessResult curl(Duration timeout, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(RealParts.require("curl").toString(), "-q", "--silent", "--show-error"));
    command.addAll(Arrays.asList(args));
    return ExternalCommand.run(command, timeout,
        builder -> builder.environment().keySet().removeIf(name -> name.toLowerCase(Locale.ROOT).endsWith("_proxy")));
  }

  /**
   * Runs {@code script} (a file name in {@code src/test/resources/clients/}, e.g. {@code imap_client.py})
   * with python3 in isolated mode, so PYTHON* variables and user site-packages can't change it.
   */
  public static ProcessResult python(Duration timeout, String script, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(RealParts.require("python3").toString(), "-I", scriptPath(script).toString()));
    command.addAll(Arrays.asList(args));
    return ExternalCommand.run(command, timeout);
  }

  /**
   * Starts {@code script} like {@link #python} but returns at once, for a caller that reads its
   * output while it runs; stderr goes to {@code stderr}.
   */
  public static Process startPython(Path stderr, String script, String... args)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(RealParts.require("python3").toString(), "-I", scriptPath(script).toString()));
    command.addAll(Arrays.asList(args));
    return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
  }

  // Copied out of the class path rather than read from the source tree, so it works from any working
  // directory and from a test jar alike; one copy per JVM.
  private static Path scriptPath(String script) {
    if (!script.matches("[A-Za-z0-9_.-]+\\.py")) {
      throw new IllegalArgumentException("not a script name from src/test/resources/clients/: " + script);
    }
    return EXTRACTED_SCRIPTS.computeIfAbsent(script, name -> {
      try (InputStream in = Clients.class.getResourceAsStream("/clients/" + name)) {
        if (in == null) {
          throw new IllegalArgumentException("no /clients/" + name + " on the test class path");
        }
        Path directory = Files.createTempDirectory("postern-it-clients");
        // deleteOnExit runs in reverse order: the file goes before its directory.
        directory.toFile().deleteOnExit();
        Path file = directory.resolve(name);
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        file.toFile().deleteOnExit();
        return file;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
