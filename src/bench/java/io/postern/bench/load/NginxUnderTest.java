package io.postern.bench.load;

import io.postern.it.NginxAuthService;
import io.postern.it.RealParts;
import io.postern.testing.Ports;
import io.postern.testing.ProcessTree;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Debian's nginx with its mail module, configured as Postern is for the benchmark: the same
 * four listeners (implicit TLS and STARTTLS, IMAP and POP3), the same certificate, TLS 1.3,
 * logins decided by the Python {@code auth_http} service ({@link NginxAuthService}) that sends
 * every user to the same Dovecot in plaintext. One worker process, as many connections as the
 * open-file limit holds. Its CPU and memory are those of nginx's master and worker and of the
 * auth service, summed.
 */
final class NginxUnderTest implements ProxyUnderTest {

  private static final Path MAIL_MODULE = Path.of("/usr/lib/nginx/modules/ngx_mail_module.so");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_GRACE = Duration.ofSeconds(15);
  // What nginx's one worker may open: the process limit, as Postern gets.
  private static final int OPEN_FILES = 20_000;
  // Besides two per session, the worker holds its listeners, logs, epoll and auth requests.
  private static final int OWN_FILES = 40;

  private final Process nginx;
  private final NginxAuthService auth;
  private final long authPid;
  private final Path dir;
  private final int[] ports;
  private final ProcessMeter meter;
  private final Thread stopper;

  private NginxUnderTest(Process nginx, NginxAuthService auth, long authPid, Path dir,
      int[] ports, Thread stopper) {
    this.nginx = nginx;
    this.auth = auth;
    this.authPid = authPid;
    this.dir = dir;
    this.ports = ports.clone();
    this.stopper = stopper;
    this.meter = new ProcessMeter(() -> {
      List<Long> pids = new ArrayList<>(ProcessMeter.withDescendants(nginx.pid()));
      pids.add(authPid);
      return pids;
    });
  }

  static NginxUnderTest start(Path dir, BenchBackend backend, BenchCertificate cert)
      throws Exception {
    Path binary = RealParts.require("nginx");
    if (!Files.isRegularFile(MAIL_MODULE)) {
      RealParts.missing("nginx's mail module " + MAIL_MODULE
          + " (Debian: apt-get install libnginx-mod-mail)");
    }
    Path root = Files.createDirectories(dir.toAbsolutePath());
    Map<String, Map<String, Object>> users = new LinkedHashMap<>();
    List<String> logins = new ArrayList<>(BenchBackend.users());
    logins.add(BenchBackend.BIG_USER);
    for (String user : logins) {
      users.put(user, NginxAuthService.user(BenchBackend.PASSWORD, "127.0.0.1",
          backend.imapPort(), backend.pop3Port()));
    }
    Path authDir = root.resolve("auth");
    NginxAuthService auth = NginxAuthService.start(authDir, users);
    try {
      long authPid = ProcessHandle.allProcesses()
          .filter(p -> p.info().commandLine().orElse("").contains(authDir.toString()))
          .map(ProcessHandle::pid).findFirst()
          .orElseThrow(() -> new IllegalStateException("no process of the auth service"));
      int[] ports = Ports.free(4);
      Files.writeString(root.resolve("nginx.conf"), configuration(root, cert, auth, ports));
      Path output = root.resolve("nginx.out");
      Process nginx = new ProcessBuilder(binary.toString(), "-p", root + "/", "-c",
          root.resolve("nginx.conf").toString(), "-e", root.resolve("error.log").toString(),
          "-g", "daemon off;").redirectErrorStream(true).redirectOutput(output.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      Thread stopper = new Thread(() -> ProcessTree.stop(nginx, STOP_GRACE), "nginx-stopper");
      Runtime.getRuntime().addShutdownHook(stopper);
      NginxUnderTest proxy = new NginxUnderTest(nginx, auth, authPid, root, ports, stopper);
      try {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!greets(ports[1])) {
          if (!nginx.isAlive() || System.nanoTime() > deadline) {
            throw new IOException("nginx did not start:\n" + proxy.output());
          }
          Thread.sleep(100); // polling its port until it greets, not synchronizing threads
        }
        return proxy;
      } catch (Exception | Error e) {
        proxy.close();
        throw e;
      }
    } catch (Exception | Error e) {
      auth.close();
      throw e;
    }
  }

  private static String configuration(Path root, BenchCertificate cert, NginxAuthService auth,
      int[] ports) {
    String url = auth.url().replaceFirst("^http://", "");
    return """
        # Written by io.postern.bench.load.NginxUnderTest; every path is under %1$s.
        load_module %2$s;
        %3$s
        worker_processes 1;
        worker_rlimit_nofile %4$d;
        pid %1$s/nginx.pid;
        lock_file %1$s/nginx.lock;
        error_log %1$s/error.log info;

        events {
            worker_connections %4$d;
        }

        mail {
            server_name localhost;
            auth_http %5$s;
            proxy_pass_error_message on;
            ssl_certificate %6$s;
            ssl_certificate_key %7$s;
            ssl_protocols TLSv1.3;
            imap_auth plain login;
            pop3_auth plain;
            server { listen 127.0.0.1:%8$d ssl; protocol imap; }
            server { listen 127.0.0.1:%9$d; protocol imap; starttls on; }
            server { listen 127.0.0.1:%10$d ssl; protocol pop3; }
            server { listen 127.0.0.1:%11$d; protocol pop3; starttls on; }
        }
        """.formatted(root, MAIL_MODULE, isRoot() ? "user nobody nogroup;" : "", OPEN_FILES, url,
        cert.cert(), cert.key(), ports[0], ports[1], ports[2], ports[3]);
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean greets(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      socket.setSoTimeout(2000);
      InputStream in = socket.getInputStream();
      byte[] start = in.readNBytes(4);
      return new String(start, StandardCharsets.US_ASCII).equals("* OK");
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public String name() {
    return "nginx";
  }

  @Override
  public int imapsPort() {
    return ports[0];
  }

  @Override
  public int imapPort() {
    return ports[1];
  }

  @Override
  public int pop3sPort() {
    return ports[2];
  }

  @Override
  public int pop3Port() {
    return ports[3];
  }

  @Override
  public ProcessMeter meter() {
    return meter;
  }

  @Override
  public OptionalLong heapAfterGcKib() {
    return OptionalLong.empty();
  }

  /** Two connections per session in its one worker, besides its own files. */
  @Override
  public int maxSessionsByDescriptors() {
    return (OPEN_FILES - OWN_FILES) / 2;
  }

  @Override
  public String output() throws IOException {
    Path log = dir.resolve("error.log");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
  }

  @Override
  public void close() {
    ProcessTree.stop(nginx, STOP_GRACE);
    auth.close();
    try {
      Runtime.getRuntime().removeShutdownHook(stopper);
    } catch (IllegalStateException exiting) {
      // The JVM is exiting: the hook runs anyway.
    }
  }
}
