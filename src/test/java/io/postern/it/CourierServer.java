package io.postern.it;

import io.postern.testing.OpensslCertificates;
import io.postern.testing.OpensslTool;
import io.postern.testing.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.commons.codec.digest.Crypt;

/**
 * A private Courier-IMAP and Courier POP3 (Debian 12's courier-imap, courier-pop, unpacked; see
 * {@link UnpackedPackages}) on free 127.0.0.1 ports: {@code couriertcpd} for each of IMAP
 * (STARTTLS offered, not required), IMAPS, POP3 (STLS offered) and POP3S, with Courier's own
 * {@code couriertls} for TLS, and {@code authdaemond} checking passwords against a userdb made by
 * {@code makeuserdb} (SHA512-CRYPT). Mail is Maildir, owned by the {@code mail} account.
 *
 * <p>The hard-wired paths ({@code /etc/courier/authdaemonrc}, the userdb, the authdaemon socket
 * under {@code /run/courier}) point into this server's directory through the mount namespace.
 */
final class CourierServer extends UnpackedMailServer {

  private static final String HOST = "127.0.0.1";
  private static final String MAIL_ACCOUNT = "mail";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  private static final int START_ATTEMPTS = 5;
  private static final String SAFE_USER = "[a-z0-9._-]+";

  private final boolean tlsRequired;

  private CourierServer(Path dir, UnpackedPackages packages, Path certificate,
      boolean tlsRequired) {
    super(dir, packages, certificate,
        new ServiceProcess("Courier in " + dir, dir.resolve("courier.out"), STOP_GRACE));
    this.tlsRequired = tlsRequired;
  }

  /** Starts Courier under {@code dir} with these users (plain ASCII names and passwords). */
  static CourierServer start(Path dir, Map<String, String> usersAndPasswords) throws Exception {
    return start(dir, usersAndPasswords, false);
  }

  /**
   * The same; with {@code tlsRequired}, Courier refuses to log anybody in before STARTTLS/STLS
   * on its plaintext ports ({@code IMAP_TLS_REQUIRED=1}, {@code POP3_TLS_REQUIRED=1}).
   */
  static CourierServer start(Path dir, Map<String, String> usersAndPasswords, boolean tlsRequired)
      throws Exception {
    UnpackedPackages packages = UnpackedPackages.require("Courier",
        "/usr/sbin/couriertcpd", "/usr/lib/courier/courier/imaplogin", "/usr/bin/imapd",
        "/usr/lib/courier/courier/courierpop3login", "/usr/lib/courier/courier/courierpop3d",
        "/usr/lib/courier/courier-authlib/authdaemond", "/usr/sbin/makeuserdb", "/usr/bin/couriertls");
    RealParts.require("openssl");
    Path root = UnpackedPackages.serverDirectory(dir, "Courier");
    Path etc = Files.createDirectories(root.resolve("etc/courier"));
    Files.createDirectories(root.resolve("run/courier/authdaemon"));
    Path certificate = createTlsFiles(root.resolve("tls"));
    Files.writeString(etc.resolve("authdaemonrc"), """
        authmodulelist="authuserdb"
        daemons=2
        authdaemonvar=/run/courier/authdaemon
        DEBUG_LOGIN=0
        DEFAULTOPTIONS=""
        """);
    int[] ids = createUsers(root, etc, usersAndPasswords);
    addCourierAccount(root.resolve("etc"), ids[0], ids[1]);
    // Read by couriertls, which runs as that "courier" account for STARTTLS/STLS.
    Files.setOwner(root.resolve("tls/courier.pem"), root.getFileSystem()
        .getUserPrincipalLookupService().lookupPrincipalByName(MAIL_ACCOUNT));
    CourierServer server = new CourierServer(root, packages, certificate, tlsRequired);
    server.process.startOnFreePorts(START_ATTEMPTS, server::startOnFreePorts);
    return server;
  }

  @Override
  public String name() {
    return "Courier";
  }

  private void startOnFreePorts() throws Exception {
    int[] free = Ports.free(4);
    listeners = new Listeners(free[0], free[1], free[2], free[3]);
    Path etc = dir.resolve("etc");
    String userdb = etc.resolve("courier/userdb").toString();
    process.launch(packages.launcher(dir.resolve("start.sh"), body(),
        "makeuserdb -f " + userdb, etc, dir.resolve("run")));
    process.awaitReady(START_TIMEOUT, () -> MailGreeting.greets(listeners.imap(), "* OK")
        && MailGreeting.greetsOverTls(listeners.imaps(), certificate, "* OK")
        && MailGreeting.greets(listeners.pop3(), "+OK")
        && MailGreeting.greetsOverTls(listeners.pop3s(), certificate, "+OK"));
  }

  // What Debian's /usr/lib/courier/{imapd,imapd-ssl,pop3d,pop3d-ssl} start scripts run, in the
  // foreground, with the settings of /etc/courier/{imapd,pop3d}*. A SIGTERM to the script (how
  // the test stops it) is passed on to every daemon.
  private String body() {
    String tcpd = "/usr/sbin/couriertcpd -address=" + HOST
        + " -maxprocs=200 -maxperip=200 -nodnslookup -noidentlookup ";
    String imap = "/usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir";
    String pop3 = "/usr/lib/courier/courier/courierpop3login /usr/lib/courier/courier/courierpop3d Maildir";
    String tls = "/usr/bin/couriertls -server -tcpd ";
    return """
        pids=""
        trap 'kill $pids 2>/dev/null; wait; exit 0' TERM INT
        /usr/lib/courier/courier-authlib/authdaemond &
        pids="$pids $!"
        export TLS_CERTFILE=%1$s/tls/courier.pem TLS_DHPARAMS=%1$s/tls/dh.pem TLS_VERIFYPEER=NONE
        export COURIERTLS=/usr/bin/couriertls TLS_PROTOCOL=TLSv1.2+
        export IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
        export IMAP_CAPABILITY_TLS="$IMAP_CAPABILITY AUTH=PLAIN"
        export IMAP_STARTTLS=YES IMAP_TLS_REQUIRED=%10$d IMAP_KEYWORDS=1 IMAP_ACL=1 IMAP_USELOCKS=1
        # No FAM/Gamin server here: IDLE polls the Maildir, this often (seconds).
        export IMAP_ENHANCEDIDLE=0 IMAP_IDLE_TIMEOUT=1
        export POP3AUTH="PLAIN LOGIN" POP3AUTH_TLS="PLAIN LOGIN" POP3_STARTTLS=YES POP3_TLS_REQUIRED=%10$d
        %2$s%3$d %4$s &
        pids="$pids $!"
        IMAP_TLS=1 %2$s%5$d %6$s%4$s &
        pids="$pids $!"
        %2$s%7$d %8$s &
        pids="$pids $!"
        POP3_TLS=1 %2$s%9$d %6$s%8$s &
        pids="$pids $!"
        wait
        """.formatted(dir, tcpd, listeners.imap(), imap, listeners.imaps(), tls, listeners.pop3(),
        pop3, listeners.pop3s(), tlsRequired ? 1 : 0);
  }

  private static Path createTlsFiles(Path tls) throws Exception {
    Files.createDirectories(tls);
    OpensslCertificates.Pair pair = OpensslCertificates.localhost(tls, "courier");
    // couriertls wants the key and the certificate in one file.
    Path combined = tls.resolve("courier.pem");
    Files.write(combined, concat(Files.readAllBytes(pair.key()), Files.readAllBytes(pair.cert())));
    Files.setPosixFilePermissions(combined, PosixFilePermissions.fromString("rw-------"));
    OpensslTool.run(List.of("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
        "group:ffdhe2048", "-out", tls.resolve("dh.pem").toString()), Duration.ofSeconds(60));
    return pair.cert();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = new byte[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  // Courier's login programs switch to the "courier" account before they run couriertls for
  // STARTTLS/STLS; Debian's courier-base creates it. Here it exists only in the namespace's /etc
  // (the host's passwd and group with one line more), with the mail account's ids.
  private static void addCourierAccount(Path etc, int uid, int gid) throws IOException {
    Files.writeString(etc.resolve("passwd"), Files.readString(Path.of("/etc/passwd"))
        + "courier:x:" + uid + ":" + gid + ":Courier (Postern interop test):/nonexistent:/usr/sbin/nologin\n");
    Files.writeString(etc.resolve("group"), Files.readString(Path.of("/etc/group"))
        + "courier:x:" + gid + ":\n");
  }

  /** Writes the userdb and each user's Maildir; returns the mail account's uid and gid. */
  private static int[] createUsers(Path root, Path etc, Map<String, String> usersAndPasswords)
      throws IOException {
    UserPrincipalLookupService lookup = root.getFileSystem().getUserPrincipalLookupService();
    UserPrincipal user = lookup.lookupPrincipalByName(MAIL_ACCOUNT);
    GroupPrincipal group = lookup.lookupPrincipalByGroupName(MAIL_ACCOUNT);
    StringBuilder userdb = new StringBuilder();
    int[] ids = new int[2];
    SecureRandom random = new SecureRandom();
    for (Map.Entry<String, String> entry : usersAndPasswords.entrySet()) {
      String name = entry.getKey();
      if (!name.matches(SAFE_USER)) {
        throw new IllegalArgumentException("user name must match " + SAFE_USER + ": " + name);
      }
      Path home = root.resolve("home").resolve(name);
      Path maildir = home.resolve("Maildir");
      for (Path path : List.of(home, maildir, maildir.resolve("cur"), maildir.resolve("new"),
          maildir.resolve("tmp"))) {
        Files.createDirectories(path);
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(user);
        view.setGroup(group);
        view.setPermissions(PosixFilePermissions.fromString("rwx------"));
      }
      int uid = (Integer) Files.getAttribute(home, "unix:uid");
      int gid = (Integer) Files.getAttribute(home, "unix:gid");
      ids = new int[] {uid, gid};
      byte[] saltBytes = new byte[8];
      random.nextBytes(saltBytes);
      String salt = "$6$" + HexFormat.of().formatHex(saltBytes);
      String hash = Crypt.crypt(entry.getValue().getBytes(StandardCharsets.UTF_8), salt);
      userdb.append(name).append('\t').append("uid=").append(uid).append("|gid=").append(gid)
          .append("|home=").append(home).append("|mail=").append(maildir)
          .append("|systempw=").append(hash).append('\n');
    }
    Path file = etc.resolve("userdb");
    Files.writeString(file, userdb);
    // makeuserdb refuses a userdb that group or others may read.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return ids;
  }
}
