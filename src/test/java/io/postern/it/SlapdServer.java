package io.postern.it;

import io.postern.testing.Ports;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * A private OpenLDAP {@code slapd} for the LDAP ITs: an mdb database under {@code dir}, seeded
 * with {@code slapadd}, serving {@code ldap://} (StartTLS offered) and {@code ldaps://} on
 * 127.0.0.1 ports picked at start, in the foreground, stopped by pid. The directory is
 * {@code dc=example,dc=org}; {@link #SERVICE_DN} may read every entry, a user may read their
 * own, anonymous clients nothing (so a search must be the service account's).
 */
public final class SlapdServer implements AutoCloseable {

  public static final String SUFFIX = "dc=example,dc=org";
  public static final String PEOPLE = "ou=people," + SUFFIX;
  public static final String SERVICE_DN = "cn=postern," + SUFFIX;

  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
  private static final int START_ATTEMPTS = 5;

  private final Path dir;
  private final Path binary;
  private final ServiceProcess process;
  private int ldapPort;
  private int ldapsPort;

  private SlapdServer(Path dir, Path binary) {
    this.dir = dir;
    this.binary = binary;
    this.process = new ServiceProcess("slapd in " + dir, dir.resolve("slapd.out"), STOP_TIMEOUT);
  }

  /**
   * Starts slapd with {@code entries} (LDIF, the suffix, ou=people and the service account
   * already there) and the TLS pair {@code cert}/{@code key}; the service account's password
   * is {@code servicePassword}.
   */
  public static SlapdServer start(Path dir, String entries, String servicePassword, Path cert,
      Path key) throws Exception {
    Path binary = RealParts.require("slapd");
    Path slapadd = RealParts.require("slapadd");
    Path root = ServiceProcess.configurableDirectory(dir, "slapd");
    Files.createDirectories(root.resolve("db"));
    Path conf = root.resolve("slapd.conf");
    Files.writeString(conf, String.join("\n",
        "include /etc/ldap/schema/core.schema",
        "include /etc/ldap/schema/cosine.schema",
        "include /etc/ldap/schema/inetorgperson.schema",
        "modulepath /usr/lib/ldap",
        "moduleload back_mdb",
        "pidfile " + root.resolve("slapd.pid"),
        "TLSCertificateFile " + cert.toAbsolutePath(),
        "TLSCertificateKeyFile " + key.toAbsolutePath(),
        "database mdb",
        "suffix \"" + SUFFIX + "\"",
        "directory " + root.resolve("db"),
        "maxsize 10485760",
        "access to attrs=userPassword by anonymous auth by * none",
        "access to * by dn.exact=\"" + SERVICE_DN + "\" read by self read by * none",
        ""));
    String seed = String.join("\n",
        "dn: " + SUFFIX, "objectClass: dcObject", "objectClass: organization", "o: Example",
        "dc: example", "",
        "dn: " + PEOPLE, "objectClass: organizationalUnit", "ou: people", "",
        "dn: " + SERVICE_DN, "objectClass: organizationalRole",
        "objectClass: simpleSecurityObject", "cn: postern",
        "userPassword: " + ssha(servicePassword), "", entries.strip(), "");
    Path ldif = root.resolve("seed.ldif");
    Files.writeString(ldif, seed);
    ProcessBuilder add = new ProcessBuilder(slapadd.toString(), "-f", conf.toString(), "-l",
        ldif.toString()).redirectErrorStream(true)
        .redirectOutput(root.resolve("slapadd.out").toFile());
    Process adding = add.start();
    if (!adding.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || adding.exitValue() != 0) {
      adding.destroyForcibly();
      throw new IOException("slapadd failed: " + Files.readString(root.resolve("slapadd.out")));
    }
    SlapdServer server = new SlapdServer(root, binary);
    server.process.startOnFreePorts(START_ATTEMPTS, () -> {
      int[] ports = Ports.free(2);
      server.ldapPort = ports[0];
      server.ldapsPort = ports[1];
      server.launch();
    });
    return server;
  }

  private void launch() throws Exception {
    process.launch(new ProcessBuilder(binary.toString(), "-f", dir.resolve("slapd.conf")
        .toString(), "-h", "ldap://127.0.0.1:" + ldapPort + "/ ldaps://127.0.0.1:" + ldapsPort
        + "/", "-d", "stats"));
    process.awaitReady(START_TIMEOUT, () -> answers(ldapPort) && answers(ldapsPort));
  }

  private static boolean answers(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code {SSHA}} of {@code password}, as slappasswd makes it. */
  public static String ssha(String password) throws Exception {
    byte[] salt = new byte[8];
    new SecureRandom().nextBytes(salt);
    MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
    sha1.update(password.getBytes(StandardCharsets.UTF_8));
    sha1.update(salt);
    byte[] digest = sha1.digest();
    byte[] both = new byte[digest.length + salt.length];
    System.arraycopy(digest, 0, both, 0, digest.length);
    System.arraycopy(salt, 0, both, digest.length, salt.length);
    return "{SSHA}" + Base64.getEncoder().encodeToString(both);
  }

  public int ldapPort() {
    return ldapPort;
  }

  public int ldapsPort() {
    return ldapsPort;
  }

  /** What slapd wrote (its stats log), for assertion messages. */
  public String output() throws IOException {
    return process.output();
  }

  /** Stops slapd by pid; {@link #restart()} starts it again on the same ports. */
  public synchronized void stop() {
    process.stop();
  }

  public synchronized void restart() throws Exception {
    process.stop();
    launch();
  }

  @Override
  public void close() {
    process.close();
  }

  /** LDIF lines of one person under {@link #PEOPLE}, with extra attribute lines. */
  public static String person(String uid, String password, List<String> extra) throws Exception {
    StringBuilder out = new StringBuilder("dn: uid=" + uid + "," + PEOPLE + "\n"
        + "objectClass: inetOrgPerson\nobjectClass: extensibleObject\n"
        + "uid: " + uid + "\ncn: " + uid + "\nsn: " + uid + "\n"
        + "userPassword: " + ssha(password) + "\n");
    extra.forEach(line -> out.append(line).append('\n'));
    return out.append('\n').toString();
  }
}
