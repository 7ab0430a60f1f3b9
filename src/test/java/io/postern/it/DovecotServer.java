package io.postern.it;

import io.postern.testing.ExternalCommand;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.OpensslTool;
import io.postern.testing.Ports;
import io.postern.testing.ProcessResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A private, real Dovecot (IMAP + POP3, plaintext with STARTTLS/STLS and implicit TLS) run as a child
 * process of the test JVM, on free 127.0.0.1 ports, with everything it writes kept under one directory.
 *
 * <p>Needs root (Dovecot switches to its own users and to the {@code mail} account for mailbox access)
 * and the Debian packages dovecot-core, dovecot-imapd, dovecot-pop3d and openssl. Without them the test
 * is skipped, or fails when {@code CI=true} (see {@link RealParts}).
 *
 * <p>Users log in with the password given; Dovecot checks it against a SHA512-CRYPT hash made by
 * {@code doveadm pw}. Messages delivered with {@link #deliver} get UIDs 1, 2, 3... per user in delivery
 * order, and POP3 message numbers in the same order.
 */
public final class DovecotServer implements AutoCloseable {

  private static final String HOST = "127.0.0.1";
  // Exists on every Debian system (base-passwd), unlike a vmail account we would have to create, and
  // keeps mail apart from Dovecot's own service users (dovecot, dovenull). Mail can't be owned by root:
  // Dovecot refuses mail access as uid 0.
  private static final String MAIL_ACCOUNT = "mail";
  // Generous: CI has two cores shared with other builds.
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);
  private static final int START_ATTEMPTS = 5;
  // Keeps user names in the config free of anything Dovecot would quote, expand (%) or treat as a comment.
  private static final String SAFE_USER = "[A-Za-z0-9._+@-]+";

  /** The haproxy ports are 0 unless the server trusts a proxy. */
  private record Listeners(int imap, int imaps, int pop3, int pop3s, int haproxyImap,
      int haproxyImaps, int haproxyPop3, int haproxyPop3s) {}

  private record Account(UserPrincipal user, GroupPrincipal group, int uid, int gid) {}

  private final Path dir;
  private final Path binary;
  private final Path config;
  private final Path log;
  private final Path certificate;
  private final Map<String, Path> maildirs;
  private final Account mailAccount;
  private final ServiceProcess process;
  /** CIDRs Dovecot takes a proxy's word from (ID, XCLIENT, PROXY headers), or null. */
  private final String trustedNetworks;
  private Listeners listeners;
  private long lastDeliveryMicros;
  private long deliveries;
  private boolean closed;
  /** Appended to the configuration: Dovecot keeps the last value of a setting. */
  private String extraSettings = "";

  private DovecotServer(Path dir, Path binary, Path certificate, Map<String, Path> maildirs,
      Account mailAccount, String trustedNetworks) {
    this.dir = dir;
    this.trustedNetworks = trustedNetworks;
    this.binary = binary;
    this.config = dir.resolve("dovecot.conf");
    this.log = dir.resolve("dovecot.log");
    this.certificate = certificate;
    this.maildirs = maildirs;
    this.mailAccount = mailAccount;
    this.process = new ServiceProcess("Dovecot in " + dir, dir.resolve("dovecot.out"), STOP_TIMEOUT, log);
  }

  /** Starts a private Dovecot under dir (config, base_dir, mail, logs, TLS files all inside dir). */
  public static DovecotServer start(Path dir, Map<String, String> usersAndPasswords) throws Exception {
    return start(dir, usersAndPasswords, null, "");
  }

  /**
   * The same, with {@code extraSettings} (lines of dovecot.conf) after the defaults, which they
   * override, e.g. {@code disable_plaintext_auth = yes}.
   */
  public static DovecotServer start(Path dir, Map<String, String> usersAndPasswords,
      String extraSettings) throws Exception {
    return start(dir, usersAndPasswords, null, extraSettings);
  }

  /**
   * As {@link #start(Path, Map)}, trusting a proxy at {@code trustedNetworks} (e.g.
   * {@code 127.0.0.1/32}): {@code login_trusted_networks}, so that it takes the client's address
   * from IMAP ID and POP3 XCLIENT, and {@code haproxy_trusted_networks} with four more listeners
   * that require a PROXY header ({@code haproxy = yes}): {@link #haproxyImapPort()} and friends.
   */
  public static DovecotServer startTrusting(Path dir, Map<String, String> usersAndPasswords,
      String trustedNetworks) throws Exception {
    return start(dir, usersAndPasswords, trustedNetworks, "");
  }

  private static DovecotServer start(Path dir, Map<String, String> usersAndPasswords,
      String trustedNetworks, String extraSettings) throws Exception {
    Path binary = RealParts.require("dovecot");
    RealParts.require("doveadm");
    RealParts.require("doveconf");
    RealParts.require("openssl");
    if (!ServiceProcess.isRoot()) {
      RealParts.missing("root: Dovecot has to switch to its service users and the mail account");
    }
    if (usersAndPasswords.isEmpty()) {
      throw new IllegalArgumentException("at least one user is needed");
    }
    Path root = prepareDirectory(dir);
    Account account = mailAccount(root);
    Path certificate = createTlsFiles(root.resolve("tls"));
    Map<String, Path> maildirs = createUsers(root, usersAndPasswords, account);
    Files.createDirectories(root.resolve("state"));

    DovecotServer server = new DovecotServer(root, binary, certificate, maildirs, account,
        trustedNetworks);
    server.extraSettings = extraSettings;
    server.process.startOnFreePorts(START_ATTEMPTS, server::startOnFreePorts);
    return server;
  }

  public int imapPort() {
    return listeners.imap();
  }

  public int imapsPort() {
    return listeners.imaps();
  }

  public int pop3Port() {
    return listeners.pop3();
  }

  public int pop3sPort() {
    return listeners.pop3s();
  }

  /** A listener that requires a PROXY header (plaintext, STARTTLS offered); 0 if none. */
  public int haproxyImapPort() {
    return listeners.haproxyImap();
  }

  public int haproxyImapsPort() {
    return listeners.haproxyImaps();
  }

  public int haproxyPop3Port() {
    return listeners.haproxyPop3();
  }

  public int haproxyPop3sPort() {
    return listeners.haproxyPop3s();
  }

  /** PEM of the self-signed server certificate (CN and SAN localhost, SAN IP 127.0.0.1); a trust anchor. */
  public Path certificate() {
    return certificate;
  }

  /** Dovecot's log file, for diagnosis in assertion messages. */
  public Path log() {
    return log;
  }

  /** The log's text, or a note that there is none yet. */
  public String logText() throws IOException {
    return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "(no dovecot.log)";
  }

  /**
   * Puts a message into the user's INBOX (Maildir new/), owned by the mail account, so the next IMAP
   * SELECT or POP3 login sees it. Store messages with CRLF line ends: Dovecot then serves exactly
   * these bytes (BODY[], RETR after un-stuffing).
   */
  public synchronized void deliver(String user, byte[] rfc5322Message) throws IOException {
    Path maildir = maildirs.get(user);
    if (maildir == null) {
      throw new IllegalArgumentException("unknown user " + user + "; known: " + maildirs.keySet());
    }
    // Dovecot numbers new messages in the order of the time in their names, so the names must grow.
    long micros = Math.max(ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now()), lastDeliveryMicros + 1);
    lastDeliveryMicros = micros;
    String name = String.format("%d.M%06dP%dQ%d.postern-it", micros / 1_000_000, micros % 1_000_000,
        ProcessHandle.current().pid(), ++deliveries);
    // Written in tmp/ and renamed into new/, as Maildir requires, so Dovecot never sees half a message.
    Path temporary = maildir.resolve("tmp").resolve(name);
    Files.write(temporary, rfc5322Message, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    own(temporary, PosixFilePermissions.fromString("rw-------"));
    Files.move(temporary, maildir.resolve("new").resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  /** Stops the Dovecot process (and its children) by pid; {@link #restart()} starts it again. */
  public synchronized void stop() {
    process.stop();
  }

  /** Starts Dovecot again after {@link #stop()}: same ports, same config, same mail. */
  public synchronized void restart() throws Exception {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    stop();
    launch();
  }

  /** Stops Dovecot and deletes everything it wrote under dir. (At JVM exit it is stopped anyway.) */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    process.close();
    try (Stream<Path> tree = Files.walk(dir)) {
      for (Path path : tree.sorted(Comparator.reverseOrder()).filter(path -> !path.equals(dir)).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not clean up " + dir, e);
    }
  }

  @Override
  public String toString() {
    return process + " on " + listeners;
  }

  private void startOnFreePorts() throws Exception {
    int[] free = Ports.free(trustedNetworks == null ? 4 : 8);
    listeners = trustedNetworks == null ? new Listeners(free[0], free[1], free[2], free[3], 0, 0, 0, 0)
        : new Listeners(free[0], free[1], free[2], free[3], free[4], free[5], free[6], free[7]);
    Files.writeString(config, configuration());
    checkConfiguration();
    launch();
  }

  private void checkConfiguration() throws Exception {
    ProcessResult result = ExternalCommand.run(
        List.of(RealParts.require("doveconf").toString(), "-c", config.toString(), "-n"), TOOL_TIMEOUT);
    if (result.exitCode() != 0) {
      if (result.stderr().contains("Unknown protocol")) {
        RealParts.missing("Dovecot's IMAP or POP3 server (Debian: apt-get install dovecot-imapd dovecot-pop3d): "
            + result.stderr().strip());
      }
      throw new IllegalStateException("doveconf rejects " + config + ": " + result.stderr());
    }
  }

  /** Starts the master in the foreground and waits until all four listeners greet. */
  private void launch() throws IOException, InterruptedException {
    // Our previous master is gone (stop() waited for it); a stale pid file could name an unrelated process.
    Files.deleteIfExists(dir.resolve("run/master.pid"));
    process.launch(new ProcessBuilder(binary.toString(), "-F", "-c", config.toString()));
    process.awaitReady(START_TIMEOUT, () -> MailGreeting.greets(listeners.imap(), "* OK")
        && MailGreeting.greetsOverTls(listeners.imaps(), certificate, "* OK")
        && MailGreeting.greets(listeners.pop3(), "+OK")
        && MailGreeting.greetsOverTls(listeners.pop3s(), certificate, "+OK"));
  }

  private String configuration() {
    String d = dir.toString();
    return """
        # Written by io.postern.it.DovecotServer for one test run; every path is under %1$s.
        base_dir = %1$s/run
        state_dir = %1$s/state
        instance_name = postern-it-%2$d
        log_path = %1$s/dovecot.log
        info_log_path = %1$s/dovecot.log
        debug_log_path = %1$s/dovecot.log

        protocols = imap pop3
        listen = %3$s
        ssl = yes
        ssl_cert = <%1$s/tls/dovecot.crt
        ssl_key = <%1$s/tls/dovecot.key
        # Our own (RFC 7919 ffdhe2048) so Dovecot never looks for the system's dh.pem.
        ssl_dh = <%1$s/tls/dh.pem
        ssl_min_protocol = TLSv1.2

        # The proxy logs in over plain TCP to some backends.
        disable_plaintext_auth = no
        auth_mechanisms = plain login
        # Default %%Lu would lower-case names, so a user "Alice" could never log in.
        auth_username_format = %%u
        # Logs why a login failed ("Password mismatch", "unknown user"): the assertion messages show it.
        auth_verbose = yes
        # Tests try wrong passwords on purpose; the default 2 s delay only slows them down.
        auth_failure_delay = 0
        passdb {
          driver = passwd-file
          args = %1$s/users
        }
        userdb {
          driver = passwd-file
          args = %1$s/users
        }

        # Mail is owned by the "%4$s" account, whose ids are below Dovecot's default minimum of 500.
        first_valid_uid = %5$d
        first_valid_gid = %6$d
        mail_location = maildir:~/Maildir
        # Load tests open many sessions per user from 127.0.0.1; the default allows 10.
        mail_max_userip_connections = 1000
        # Headroom over the default 256 MiB address-space limit for 64 MiB messages.
        default_vsz_limit = 1G

        # Repeated wrong passwords from one IP would otherwise delay later logins by up to 15 s.
        # Mode 0 means the listener is never created, so the auth process finds no socket and turns
        # the penalty off at once (a stale socket file would make it retry for 5 s instead).
        service anvil {
          unix_listener anvil-auth-penalty {
            mode = 0
          }
        }

        service imap-login {
          inet_listener imap {
            port = %7$d
          }
          inet_listener imaps {
            port = %8$d
            ssl = yes
          }
        }
        service pop3-login {
          inet_listener pop3 {
            port = %9$d
          }
          inet_listener pop3s {
            port = %10$d
            ssl = yes
          }
        }
        """.formatted(d, listeners.imap(), HOST, MAIL_ACCOUNT, mailAccount.uid(), mailAccount.gid(),
        listeners.imap(), listeners.imaps(), listeners.pop3(), listeners.pop3s())
        + (trustedNetworks == null ? "" : trustConfiguration()) + extraSettings;
  }

  /** A proxy's word on the client: ID and XCLIENT from it, PROXY headers on the haproxy ports. */
  private String trustConfiguration() {
    return """

        login_trusted_networks = %1$s
        haproxy_trusted_networks = %1$s
        service imap-login {
          inet_listener imap-haproxy {
            port = %2$d
            haproxy = yes
          }
          inet_listener imaps-haproxy {
            port = %3$d
            ssl = yes
            haproxy = yes
          }
        }
        service pop3-login {
          inet_listener pop3-haproxy {
            port = %4$d
            haproxy = yes
          }
          inet_listener pop3s-haproxy {
            port = %5$d
            ssl = yes
            haproxy = yes
          }
        }
        """.formatted(trustedNetworks, listeners.haproxyImap(), listeners.haproxyImaps(),
        listeners.haproxyPop3(), listeners.haproxyPop3s());
  }

  private static Path prepareDirectory(Path dir) throws IOException {
    Path root = ServiceProcess.configurableDirectory(dir, "Dovecot");
    try (Stream<Path> entries = Files.list(root)) {
      if (entries.findAny().isPresent()) {
        throw new IllegalArgumentException("Dovecot directory must be empty: " + root);
      }
    }
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    // Dovecot's auth user and the mail account must reach files below; JUnit's @TempDir is rwx------.
    Path temp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
    for (Path ancestor = root.getParent(); ancestor != null; ancestor = ancestor.getParent()) {
      var permissions = Files.getPosixFilePermissions(ancestor);
      if (permissions.contains(PosixFilePermission.OTHERS_EXECUTE)) {
        continue;
      }
      if (!ancestor.startsWith(temp) || ancestor.equals(temp)) {
        throw new AccessDeniedException(ancestor.toString(), null,
            "Dovecot's users could not reach " + root + "; use a directory under " + temp);
      }
      permissions.add(PosixFilePermission.OTHERS_EXECUTE);
      Files.setPosixFilePermissions(ancestor, permissions);
    }
    return root;
  }

  private static Account mailAccount(Path root) throws IOException {
    UserPrincipalLookupService lookup = root.getFileSystem().getUserPrincipalLookupService();
    UserPrincipal user;
    GroupPrincipal group;
    try {
      user = lookup.lookupPrincipalByName(MAIL_ACCOUNT);
      group = lookup.lookupPrincipalByGroupName(MAIL_ACCOUNT);
    } catch (UserPrincipalNotFoundException e) {
      throw new IllegalStateException("no '" + MAIL_ACCOUNT + "' user and group to own the test mail", e);
    }
    // The numeric ids, which Dovecot's first_valid_uid/gid need, via a file we give to that account.
    Path probe = Files.createDirectories(root.resolve("home"));
    PosixFileAttributeView view = Files.getFileAttributeView(probe, PosixFileAttributeView.class);
    view.setOwner(user);
    view.setGroup(group);
    return new Account(user, group, (Integer) Files.getAttribute(probe, "unix:uid"),
        (Integer) Files.getAttribute(probe, "unix:gid"));
  }

  private static Path createTlsFiles(Path tls) throws Exception {
    Files.createDirectories(tls);
    OpensslCertificates.Pair pair = OpensslCertificates.localhost(tls, "dovecot");
    // A named RFC 7919 group: instant, where generating fresh DH parameters takes many seconds.
    OpensslTool.run(List.of("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048",
        "-out", tls.resolve("dh.pem").toString()), TOOL_TIMEOUT);
    Files.setPosixFilePermissions(pair.key(), PosixFilePermissions.fromString("rw-------"));
    return pair.cert();
  }

  private static Map<String, Path> createUsers(Path root, Map<String, String> usersAndPasswords, Account account)
      throws Exception {
    String doveadm = RealParts.require("doveadm").toString();
    StringBuilder passwd = new StringBuilder();
    Map<String, Path> maildirs = new LinkedHashMap<>();
    for (Map.Entry<String, String> entry : usersAndPasswords.entrySet()) {
      String user = entry.getKey();
      String password = entry.getValue();
      if (!user.matches(SAFE_USER)) {
        throw new IllegalArgumentException("user name must match " + SAFE_USER + ": " + user);
      }
      if (password.isEmpty() || password.chars().anyMatch(c -> c == 0 || c == '\n' || c == '\r')) {
        throw new IllegalArgumentException("password of " + user + " must be non-empty, one line, no NUL");
      }
      // -O: no config file needed, so this works before ours exists and without /etc/dovecot.
      String hash = ExternalCommand.output(List.of(doveadm, "-O", "pw", "-s", "SHA512-CRYPT", "-p", password),
          TOOL_TIMEOUT).strip();
      if (!hash.startsWith("{SHA512-CRYPT}$6$")) {
        throw new IllegalStateException("unexpected doveadm pw output: " + hash);
      }
      Path home = root.resolve("home").resolve(user);
      Path maildir = home.resolve("Maildir");
      for (Path path : List.of(home, maildir, maildir.resolve("cur"), maildir.resolve("new"), maildir.resolve("tmp"))) {
        Files.createDirectories(path);
        ownBy(path, account, PosixFilePermissions.fromString("rwx------"));
      }
      maildirs.put(user, maildir);
      // user:password:uid:gid:gecos:home:shell:extra
      passwd.append(user).append(':').append(hash).append(':').append(account.uid()).append(':')
          .append(account.gid()).append("::").append(home).append("::\n");
    }
    Path users = root.resolve("users");
    Files.writeString(users, passwd);
    // Read by Dovecot's auth process, which runs as the unprivileged "dovecot" user.
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-r--r--"));
    return Map.copyOf(maildirs);
  }

  private void own(Path path, Set<PosixFilePermission> permissions) throws IOException {
    ownBy(path, mailAccount, permissions);
  }

  private static void ownBy(Path path, Account account, Set<PosixFilePermission> permissions)
      throws IOException {
    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
    view.setOwner(account.user());
    view.setGroup(account.group());
    view.setPermissions(permissions);
  }
}
