package io.postern.it;

import io.postern.testing.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

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
  private static final int START_ATTEMPTS = 5;

  private final Path dir;
  private final Path binary;
  private final String authHttp;
  private final List<String> mailDirectives;
  private final ServiceProcess process;
  private int imapPort;
  private int pop3Port;
  private int imapsPort;

  private NginxMailProxy(Path dir, Path binary, String authHttp, List<String> mailDirectives) {
    this.dir = dir;
    this.binary = binary;
    this.authHttp = authHttp;
    this.mailDirectives = List.copyOf(mailDirectives);
    // SIGTERM to the master is a fast shutdown that also stops the worker.
    this.process = new ServiceProcess("nginx mail in " + dir, dir.resolve("nginx.out"), STOP_TIMEOUT,
        errorLog());
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
    Path root = ServiceProcess.configurableDirectory(dir, "nginx");
    NginxMailProxy proxy = new NginxMailProxy(root, binary, authHttpUrl, mailDirectives);
    proxy.process.startOnFreePorts(START_ATTEMPTS, proxy::startOnFreePorts);
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

  /** Stops nginx (and its worker); files stay for diagnosis. */
  @Override
  public void close() {
    process.close();
  }

  @Override
  public String toString() {
    return process + " on imap " + imapPort + ", pop3 " + pop3Port;
  }

  private void startOnFreePorts() throws Exception {
    int[] free = Ports.free(3);
    imapPort = free[0];
    pop3Port = free[1];
    imapsPort = free[2];
    Files.writeString(dir.resolve("nginx.conf"), configuration());
    // -p: relative paths resolve under dir; -e: nginx's own errors before it has read the config.
    process.launch(new ProcessBuilder(binary.toString(), "-p", dir + "/", "-c",
        dir.resolve("nginx.conf").toString(), "-e", errorLog().toString(), "-g", "daemon off;"));
    process.awaitReady(START_TIMEOUT,
        () -> MailGreeting.greets(imapPort, "* OK") && MailGreeting.greets(pop3Port, "+OK"));
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
        """.formatted(d, MAIL_MODULE, ServiceProcess.isRoot() ? "user nobody nogroup;" : "# not root: no user directive",
        authHttp, extra, HOST, imapPort, pop3Port, hasTls()
            ? "    server {\n        listen " + HOST + ":" + imapsPort + " ssl;\n        protocol imap;\n    }"
            : "");
  }
}
