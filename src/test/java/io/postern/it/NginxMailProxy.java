package io.postern.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Debian's nginx as a mail proxy (IMAP and POP3 in clear, on free 127.0.0.1 ports) whose logins are
 * decided by an {@code auth_http} service: the reference Postern's {@code auth.source: http} replaces.
 * A plain foreground process ({@code daemon off}, master plus one worker), everything it writes under
 * one directory.
 *
 * <p>Needs the Debian packages nginx and libnginx-mod-mail (the mail module is a dynamic module there,
 * loaded with {@code load_module}); without them the test is skipped, or fails when {@code CI=true}.
 * Run as root, the worker drops to nobody:nogroup, as a packaged nginx's would to www-data.
 */
public final class NginxMailProxy implements AutoCloseable {

  private static final String HOST = "127.0.0.1";
  private static final Path MAIL_MODULE = Path.of("/usr/lib/nginx/modules/ngx_mail_module.so");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
  private static final int START_ATTEMPTS = 5;
  // Keeps the paths in nginx.conf free of anything its parser would treat specially.
  private static final String SAFE_PATH = "[A-Za-z0-9/._+-]+";

  /** nginx could not bind a port we picked: somebody took it in between. */
  private static final class PortClash extends IOException {
    private static final long serialVersionUID = 1L;

    PortClash(String message) {
      super(message);
    }
  }

  private final Path dir;
  private final Path binary;
  private final String authHttp;
  private final List<String> mailDirectives;
  private final Thread shutdownHook;
  private Process process;
  private int imapPort;
  private int pop3Port;
  private int imapsPort;

  private NginxMailProxy(Path dir, Path binary, String authHttp, List<String> mailDirectives) {
    this.dir = dir;
    this.binary = binary;
    this.authHttp = authHttp;
    this.mailDirectives = List.copyOf(mailDirectives);
    this.shutdownHook = new Thread(this::stop, "nginx-stopper-" + dir.getFileName());
  }

  /** nginx mail asking {@code authHttpUrl} ({@code http://127.0.0.1:PORT/auth}) about every login. */
  public static NginxMailProxy start(Path dir, String authHttpUrl) throws Exception {
    return start(dir, authHttpUrl, List.of());
  }

  /**
   * Same, with extra directives for the {@code mail {}} block, each a complete statement such as
   * {@code "auth_http_header X-Auth-Key secret;"}. An {@code imap_auth} or {@code pop3_auth} given here
   * replaces the default ({@code imap_auth plain login;}, {@code pop3_auth plain;}), e.g.
   * {@code "pop3_auth plain apop cram-md5;"}; the auth service must then answer with Auth-Pass.
   */
  public static NginxMailProxy start(Path dir, String authHttpUrl, List<String> mailDirectives) throws Exception {
    Path binary = RealParts.require("nginx");
    if (!Files.isRegularFile(MAIL_MODULE)) {
      RealParts.missing("nginx's mail module " + MAIL_MODULE + " (Debian: apt-get install libnginx-mod-mail)");
    }
    if (!authHttpUrl.matches("(http://)?[A-Za-z0-9.:\\[\\]-]+(/[A-Za-z0-9/._~-]*)?")) {
      throw new IllegalArgumentException("not an auth_http URL nginx.conf can carry unquoted: " + authHttpUrl);
    }
    for (String directive : mailDirectives) {
      if (!directive.strip().endsWith(";")) {
        throw new IllegalArgumentException("a mail directive must end with ';': " + directive);
      }
    }
    Path root = dir.toAbsolutePath().normalize();
    if (!root.toString().matches(SAFE_PATH)) {
      throw new IllegalArgumentException("nginx directory must match " + SAFE_PATH + ": " + root);
    }
    Files.createDirectories(root);
    NginxMailProxy proxy = new NginxMailProxy(root, binary, authHttpUrl, mailDirectives);
    Runtime.getRuntime().addShutdownHook(proxy.shutdownHook);
    try {
      proxy.startOnFreePorts();
    } catch (Exception | Error e) {
      proxy.close();
      throw e;
    }
    return proxy;
  }

  public int imapPort() {
    return imapPort;
  }

  public int pop3Port() {
    return pop3Port;
  }

  /** IMAP over implicit TLS; only when the mail directives name an {@code ssl_certificate}. */
  public int imapsPort() {
    if (!hasTls()) {
      throw new IllegalStateException("nginx was started without ssl_certificate");
    }
    return imapsPort;
  }

  private boolean hasTls() {
    return mailDirectives.stream().anyMatch(d -> d.strip().startsWith("ssl_certificate "));
  }

  /** nginx's error log (level info: "client logged in", "client login failed: ..."), for diagnosis. */
  public Path errorLog() {
    return dir.resolve("error.log");
  }

  /** The error log's text, or a note that there is none yet. */
  public String errorLogText() throws IOException {
    Path log = errorLog();
    return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "(no error.log)";
  }

  /** Stops nginx (SIGTERM to the master, which stops its worker); files stay for diagnosis. */
  @Override
  public void close() {
    stop();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // The hook is running or about to; nothing to deregister.
    }
  }

  @Override
  public String toString() {
    return "nginx mail in " + dir + " on imap " + imapPort + ", pop3 " + pop3Port
        + (process == null ? " (stopped)" : " (pid " + process.pid() + ")");
  }

  private void startOnFreePorts() throws Exception {
    PortClash lastClash = null;
    for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      pickPorts();
      Files.writeString(dir.resolve("nginx.conf"), configuration());
      try {
        launch();
        return;
      } catch (PortClash clash) {
        stop();
        lastClash = clash;
      }
    }
    throw lastClash;
  }

  private void pickPorts() throws IOException {
    // All held open together so they are different ports.
    try (ServerSocket imap = new ServerSocket(0, 1, InetAddress.getByName(HOST));
        ServerSocket pop3 = new ServerSocket(0, 1, InetAddress.getByName(HOST));
        ServerSocket imaps = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      imapPort = imap.getLocalPort();
      pop3Port = pop3.getLocalPort();
      imapsPort = imaps.getLocalPort();
    }
  }

  private String configuration() {
    String d = dir.toString();
    StringBuilder extra = new StringBuilder();
    for (String directive : mailDirectives) {
      extra.append("    ").append(directive.strip()).append('\n');
    }
    // What an ISP's nginx offers in clear: IMAP LOGIN and AUTHENTICATE PLAIN/LOGIN, POP3 USER/PASS
    // and AUTH PLAIN/LOGIN ("plain" covers them all; pop3_auth has no separate "user").
    if (mailDirectives.stream().noneMatch(directive -> directive.strip().startsWith("imap_auth "))) {
      extra.append("    imap_auth plain login;\n");
    }
    if (mailDirectives.stream().noneMatch(directive -> directive.strip().startsWith("pop3_auth "))) {
      extra.append("    pop3_auth plain;\n");
    }
    return """
        # Written by io.postern.it.NginxMailProxy for one test run; every path is under %1$s.
        load_module %2$s;
        %3$s
        worker_processes 1;
        pid %1$s/nginx.pid;
        lock_file %1$s/nginx.lock;
        error_log %1$s/error.log info;

        events {
            worker_connections 1024;
        }

        mail {
            server_name localhost;
            auth_http %4$s;
            # The backend's own error line reaches the client instead of "internal server error".
            proxy_pass_error_message on;
        %5$s
            server {
                listen %6$s:%7$d;
                protocol imap;
            }
            server {
                listen %6$s:%8$d;
                protocol pop3;
            }
        %9$s
        }
        """.formatted(d, MAIL_MODULE, isRoot() ? "user nobody nogroup;" : "# not root: no user directive",
        authHttp, extra, HOST, imapPort, pop3Port, hasTls()
            ? "    server {\n        listen " + HOST + ":" + imapsPort + " ssl;\n        protocol imap;\n    }"
            : "");
  }

  private void launch() throws Exception {
    Path output = dir.resolve("nginx.out");
    Files.deleteIfExists(output);
    Files.deleteIfExists(errorLog());
    // -p: relative paths resolve under dir; -e: nginx's own errors before it has read the config.
    process = new ProcessBuilder(binary.toString(), "-p", dir + "/", "-c", dir.resolve("nginx.conf").toString(),
        "-e", errorLog().toString(), "-g", "daemon off;")
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (true) {
      if (!process.isAlive()) {
        String log = Files.readString(output, StandardCharsets.ISO_8859_1) + "\n" + errorLogText();
        String message = "nginx exited with " + process.exitValue() + " while starting on " + this + ":\n" + log;
        if (log.contains("Address already in use")) {
          throw new PortClash(message);
        }
        throw new IOException(message);
      }
      if (greets(imapPort, "* OK") && greets(pop3Port, "+OK")) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("nginx (" + this + ") did not greet within " + START_TIMEOUT + ":\n"
            + Files.readString(output, StandardCharsets.ISO_8859_1) + "\n" + errorLogText());
      }
      Thread.sleep(50);
    }
  }

  private static boolean greets(int port, String greeting) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), (int) PROBE_TIMEOUT.toMillis());
      socket.setSoTimeout((int) PROBE_TIMEOUT.toMillis());
      String line = readLine(socket.getInputStream());
      socket.getOutputStream().write(
          (greeting.startsWith("*") ? "a LOGOUT\r\n" : "QUIT\r\n").getBytes(StandardCharsets.US_ASCII));
      return line.startsWith(greeting);
    } catch (IOException notYet) {
      return false;
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != -1 && b != '\n' && line.size() < 1024; b = in.read()) {
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  // By pid: SIGTERM to the master (a fast shutdown that also stops the worker), then SIGKILL to the
  // master and to any worker it left behind, since a stray worker would keep our ports.
  private synchronized void stop() {
    if (process == null) {
      return;
    }
    Process master = process;
    process = null;
    List<ProcessHandle> workers = new ArrayList<>(master.descendants().toList());
    boolean interrupted = false;
    try {
      master.toHandle().destroy();
      if (!master.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        master.destroyForcibly();
        master.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      interrupted = true;
      master.destroyForcibly();
    }
    for (ProcessHandle worker : workers) {
      try {
        worker.onExit().get(interrupted ? 0 : 5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
        worker.destroyForcibly();
      } catch (ExecutionException | TimeoutException e) {
        worker.destroyForcibly();
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException e) {
      return false;
    }
  }
}
