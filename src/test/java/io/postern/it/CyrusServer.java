package io.postern.it;

import io.postern.testing.OpensslCertificates;
import io.postern.testing.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A private Cyrus IMAP 3.6 with POP3 (Debian 12's cyrus-imapd, cyrus-pop3d, cyrus-common,
 * unpacked; see {@link UnpackedPackages}) on free 127.0.0.1 ports: Cyrus's {@code master}
 * in the foreground, running {@code imapd} and {@code pop3d} plaintext (STARTTLS/STLS offered)
 * and with {@code -s} (implicit TLS). Passwords are checked by SASL's auxprop against a sasldb
 * made with {@code saslpasswd2}; each user's INBOX ({@code user/NAME}) is created by an admin
 * account over IMAP. Cyrus runs as the {@code mail} account ({@code cyrus_user}).
 */
final class CyrusServer extends UnpackedMailServer {

  private static final String HOST = "127.0.0.1";
  private static final String MAIL_ACCOUNT = "mail";
  private static final String ADMIN = "cyrusadmin";
  // Cyrus looks users up in the SASL realm of its server name.
  private static final String SERVER_NAME = "postern-it";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  private static final int START_ATTEMPTS = 5;
  private static final String SAFE_USER = "[a-z0-9._-]+";
  private static final String SAFE_PASSWORD = "[A-Za-z0-9._-]+";

  private final Map<String, String> users;
  private final String adminPassword;

  private CyrusServer(Path dir, UnpackedPackages packages, Path certificate,
      Map<String, String> users, String adminPassword) {
    super(dir, packages, certificate,
        new ServiceProcess("Cyrus in " + dir, dir.resolve("cyrus.out"), STOP_GRACE));
    this.users = users;
    this.adminPassword = adminPassword;
  }

  /** Starts Cyrus under {@code dir} with these users and an empty INBOX for each. */
  static CyrusServer start(Path dir, Map<String, String> usersAndPasswords) throws Exception {
    UnpackedPackages packages = UnpackedPackages.require("Cyrus",
        "/usr/lib/cyrus/bin/master", "/usr/lib/cyrus/bin/imapd", "/usr/lib/cyrus/bin/pop3d",
        "/usr/lib/cyrus/bin/ctl_cyrusdb", "/usr/sbin/saslpasswd2");
    RealParts.require("openssl");
    for (Map.Entry<String, String> user : usersAndPasswords.entrySet()) {
      if (!user.getKey().matches(SAFE_USER) || !user.getValue().matches(SAFE_PASSWORD)) {
        throw new IllegalArgumentException("Cyrus test users need names matching " + SAFE_USER
            + " and passwords matching " + SAFE_PASSWORD + ": " + user.getKey());
      }
    }
    Path root = UnpackedPackages.serverDirectory(dir, "Cyrus");
    for (String sub : new String[] {"conf", "lib", "spool", "sieve", "run/proc", "run/lock",
        "run/socket"}) {
      Files.createDirectories(root.resolve(sub));
    }
    OpensslCertificates.Pair pair = OpensslCertificates.localhost(
        Files.createDirectories(root.resolve("tls")), "cyrus");
    byte[] secret = new byte[12];
    new SecureRandom().nextBytes(secret);
    CyrusServer server = new CyrusServer(root, packages, pair.cert(),
        new LinkedHashMap<>(usersAndPasswords), HexFormat.of().formatHex(secret));
    server.process.startOnFreePorts(START_ATTEMPTS, server::startOnFreePorts);
    try {
      for (String user : usersAndPasswords.keySet()) {
        DirectImap.command(server.imapPort(), ADMIN, server.adminPassword, "CREATE user/" + user);
      }
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  @Override
  public String name() {
    return "Cyrus";
  }

  private void startOnFreePorts() throws Exception {
    int[] free = Ports.free(4);
    listeners = new Listeners(free[0], free[1], free[2], free[3]);
    Path imapdConf = dir.resolve("conf/imapd.conf");
    Files.writeString(imapdConf, imapdConf());
    Files.writeString(dir.resolve("conf/cyrus.conf"), cyrusConf(imapdConf));
    owned();
    Files.deleteIfExists(dir.resolve("sasldb2"));
    StringBuilder sasl = new StringBuilder();
    Map<String, String> accounts = new LinkedHashMap<>(users);
    accounts.put(ADMIN, adminPassword);
    for (Map.Entry<String, String> account : accounts.entrySet()) {
      // -p: the password comes on stdin, not on a command line others could read.
      sasl.append("echo ").append(account.getValue()).append(" | saslpasswd2 -f ")
          .append(dir.resolve("sasldb2")).append(" -p -c -u ").append(SERVER_NAME).append(' ')
          .append(account.getKey()).append('\n');
    }
    sasl.append("chown ").append(MAIL_ACCOUNT).append(':').append(MAIL_ACCOUNT).append(' ')
        .append(dir.resolve("sasldb2"));
    String master = "exec /usr/lib/cyrus/bin/master -C " + imapdConf + " -M "
        + dir.resolve("conf/cyrus.conf") + " -p " + dir.resolve("run/master.pid") + " -D";
    process.launch(packages.launcher(dir.resolve("start.sh"), sasl + "\n" + master, "", null,
        null));
    process.awaitReady(START_TIMEOUT, () -> MailGreeting.greets(listeners.imap(), "* OK")
        && MailGreeting.greetsOverTls(listeners.imaps(), certificate, "* OK")
        && MailGreeting.greets(listeners.pop3(), "+OK")
        && MailGreeting.greetsOverTls(listeners.pop3s(), certificate, "+OK"));
  }

  private String imapdConf() {
    return """
        # Written by io.postern.it.CyrusServer for one test run; every path is under %1$s.
        configdirectory: %1$s/lib
        proc_path: %1$s/run/proc
        mboxname_lockpath: %1$s/run/lock
        defaultpartition: default
        partition-default: %1$s/spool
        sievedir: %1$s/sieve
        lmtpsocket: %1$s/run/socket/lmtp
        idlesocket: %1$s/run/socket/idle
        notifysocket: %1$s/run/socket/notify
        servername: %2$s
        cyrus_user: %3$s
        admins: %4$s
        unixhierarchysep: yes
        popminpoll: 0
        allowplaintext: yes
        sasl_pwcheck_method: auxprop
        sasl_auxprop_plugin: sasldb
        sasl_sasldb_path: %1$s/sasldb2
        sasl_mech_list: PLAIN LOGIN
        tls_server_cert: %1$s/tls/cyrus.crt
        tls_server_key: %1$s/tls/cyrus.key
        # No idled: IDLE polls the mailbox, this often (seconds).
        imapidlepoll: 1
        syslog_prefix: cyrus-postern-it
        """.formatted(dir, SERVER_NAME, MAIL_ACCOUNT, ADMIN);
  }

  // master does not hand its -C on to the programs it runs, so each command names the file.
  private String cyrusConf(Path imapdConf) {
    String c = " -C " + imapdConf;
    return """
        START {
          recover cmd="ctl_cyrusdb%1$s -r"
        }
        SERVICES {
          imap cmd="imapd%1$s" listen="%2$s:%3$d" prefork=0
          imaps cmd="imapd%1$s -s" listen="%2$s:%4$d" prefork=0
          pop3 cmd="pop3d%1$s" listen="%2$s:%5$d" prefork=0
          pop3s cmd="pop3d%1$s -s" listen="%2$s:%6$d" prefork=0
        }
        EVENTS {
        }
        """.formatted(c, HOST, listeners.imap(), listeners.imaps(), listeners.pop3(),
        listeners.pop3s());
  }

  // Cyrus switches to the mail account before it reads its key or writes its databases.
  private void owned() throws IOException {
    UserPrincipalLookupService lookup = dir.getFileSystem().getUserPrincipalLookupService();
    UserPrincipal user = lookup.lookupPrincipalByName(MAIL_ACCOUNT);
    GroupPrincipal group = lookup.lookupPrincipalByGroupName(MAIL_ACCOUNT);
    try (Stream<Path> tree = Files.walk(dir)) {
      for (Path path : tree.toList()) {
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(user);
        view.setGroup(group);
      }
    }
  }
}
