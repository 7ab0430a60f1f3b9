package io.postern.testing;

import io.postern.it.RealParts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One running {@code openssl} command (s_client, s_server) with its stdin kept open, so the test
 * decides when it ends; stdout and stderr are collected by two threads. Every wait has a time
 * limit and {@link #close()} kills the process by pid if it is still running.
 *
 * <p>openssl runs with {@code OPENSSL_CONF} pointing at an empty file: a distribution's
 * openssl.cnf (e.g. a {@code MinProtocol = TLSv1.2} crypto policy) must not change what the client
 * is able to offer, or a "server refuses TLS 1.1" test could pass because the client refused.
 */
public final class OpensslTool implements AutoCloseable {

  private static volatile Path emptyConfig;

  private final List<String> command;
  private final Process process;
  private final OutputStream stdin;
  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private final Thread outReader;
  private final Thread errReader;

  private OpensslTool(List<String> command) throws IOException {
    this.command = List.copyOf(command);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("OPENSSL_CONF", emptyConfig().toString());
    this.process = builder.start();
    this.stdin = process.getOutputStream();
    this.outReader = drain(process.getInputStream(), stdout, "openssl-stdout");
    this.errReader = drain(process.getErrorStream(), stderr, "openssl-stderr");
  }

  /** Starts {@code openssl args...}; skips (or on CI fails) the test when openssl is missing. */
  public static OpensslTool start(List<String> args) throws IOException {
    return new OpensslTool(openssl(args));
  }

  private static List<String> openssl(List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(RealParts.require("openssl").toString());
    command.addAll(args);
    return command;
  }

  private static Path emptyConfig() throws IOException {
    Path config = emptyConfig;
    if (config == null) {
      synchronized (OpensslTool.class) {
        if (emptyConfig == null) {
          Path file = Files.createTempFile("postern-openssl", ".cnf");
          file.toFile().deleteOnExit();
          emptyConfig = file;
        }
        config = emptyConfig;
      }
    }
    return config;
  }

  private static Thread drain(InputStream in, ByteArrayOutputStream sink, String name) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[4096];
      try (in) {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          synchronized (sink) {
            sink.write(buffer, 0, n);
          }
        }
      } catch (IOException e) {
        // the process went away; what was read so far stays
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  public List<String> command() {
    return command;
  }

  /** Writes one line ({@code \n}-terminated; s_client's {@code -crlf} turns it into CRLF). */
  public OpensslTool send(String line) {
    try {
      stdin.write((line + "\n").getBytes(StandardCharsets.ISO_8859_1));
      stdin.flush();
    } catch (IOException e) {
      // the process already exited; its output tells why
    }
    return this;
  }

  public String stdout() {
    synchronized (stdout) {
      return stdout.toString(StandardCharsets.ISO_8859_1);
    }
  }

  public String stderr() {
    synchronized (stderr) {
      return stderr.toString(StandardCharsets.ISO_8859_1);
    }
  }

  public boolean alive() {
    return process.isAlive();
  }

  /**
   * Waits until {@code condition} holds for (stdout, stderr), the process exits or the time is
   * up; returns whether the condition held.
   */
  public boolean await(Predicate<OpensslTool> condition, Duration timeout)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (condition.test(this)) {
        return true;
      }
      if (!process.isAlive()) {
        outReader.join(2000);
        errReader.join(2000);
        return condition.test(this);
      }
      if (System.nanoTime() - end > 0) {
        return false;
      }
      Thread.sleep(10);
    }
  }

  public boolean awaitStdout(String text, Duration timeout) throws InterruptedException {
    return await(t -> t.stdout().contains(text), timeout);
  }

  public boolean awaitStderr(String text, Duration timeout) throws InterruptedException {
    return await(t -> t.stderr().contains(text), timeout);
  }

  /**
   * Closes stdin (s_client then says goodbye and exits) and waits for the exit; kills the process
   * if it does not end in time. Returns the exit code, or -1 when it had to be killed.
   */
  public int finish(Duration timeout) throws InterruptedException {
    try {
      stdin.close();
    } catch (IOException e) {
      // already gone
    }
    boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      kill();
    }
    outReader.join(2000);
    errReader.join(2000);
    return exited ? process.exitValue() : -1;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        stdin.close();
      } catch (IOException e) {
        // ignore
      }
      kill();
    }
  }

  private void kill() {
    ProcessTree.stop(process, Duration.ofSeconds(3));
  }

  @Override
  public String toString() {
    return String.join(" ", command) + "\n--- stdout:\n" + abbreviate(stdout()) + "\n--- stderr:\n"
        + abbreviate(stderr());
  }

  private static String abbreviate(String text) {
    return text.length() <= 6000 ? text : text.substring(0, 6000) + "...(" + text.length()
        + " chars)";
  }

  /**
   * Runs a short openssl command to completion (e.g. {@code req}, {@code ciphers}), with the same
   * empty configuration, failing on a non-zero exit; returns its stdout.
   */
  public static String run(List<String> args, Duration timeout) throws Exception {
    String config = emptyConfig().toString();
    return ExternalCommand.output(openssl(args), timeout,
        builder -> builder.environment().put("OPENSSL_CONF", config));
  }
}
