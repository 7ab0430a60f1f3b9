package io.postern.it;

import static io.postern.it.TestMessages.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.TlsMode;
import io.postern.testing.Conversation;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import javax.net.ssl.SSLSocket;

/**
 * A real Dovecot that trusts Postern ({@code login_trusted_networks}, {@code
 * haproxy_trusted_networks}) logs the real client's address ({@code rip=}) for logins through
 * Postern, with {@code client-ip: forward} (IMAP ID, POP3 XCLIENT) and {@code proxy-v2}, over
 * each backend TLS mode; with {@code none} it logs Postern's. The clients are curl bound to
 * 127.0.0.7, Postern and Dovecot listen on 127.0.0.1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientAddressDovecotIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final String CLIENT = "127.0.0.7";
  private static final String POSTERN = "127.0.0.1";
  /** user -> {backend mode, backend TLS}; every user has a backend of its own. */
  private static final Map<String, String[]> ROUTES = new LinkedHashMap<>();

  static {
    for (String mode : List.of("none", "forward", "proxyv2")) {
      for (String tls : List.of("plain", "starttls", "implicit")) {
        ROUTES.put(mode + "-" + tls, new String[] {mode, tls});
      }
    }
  }

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private PosternFixture postern;
  private OpensslCertificates.Pair cert;
  private LogCapture logs;
  private byte[] message;

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    logs = LogCapture.start();
    Map<String, String> users = new LinkedHashMap<>();
    ROUTES.keySet().forEach(user -> users.put(user, user + "-pw"));
    dovecot = DovecotServer.startTrusting(dir.resolve("dovecot"), users, POSTERN + "/32");
    message = TestMessages.small();
    for (String user : users.keySet()) {
      dovecot.deliver(user, message);
    }
    cert = OpensslCertificates.localhost(Files.createDirectories(dir.resolve("tls")), "postern");
    PosternFixture.Builder builder = PosternFixture.builder(dir.resolve("postern"))
        .certificate(cert.cert(), cert.key())
        .backendTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10));
    for (Map.Entry<String, String[]> route : ROUTES.entrySet()) {
      String user = route.getKey();
      boolean proxy = route.getValue()[0].equals("proxyv2");
      TlsMode tls = switch (route.getValue()[1]) {
        case "plain" -> TlsMode.NONE;
        case "starttls" -> TlsMode.STARTTLS;
        default -> TlsMode.IMPLICIT;
      };
      boolean implicit = tls == TlsMode.IMPLICIT;
      int imap = proxy ? (implicit ? dovecot.haproxyImapsPort() : dovecot.haproxyImapPort())
          : (implicit ? dovecot.imapsPort() : dovecot.imapPort());
      int pop3 = proxy ? (implicit ? dovecot.haproxyPop3sPort() : dovecot.haproxyPop3Port())
          : (implicit ? dovecot.pop3sPort() : dovecot.pop3Port());
      builder.backend(user, "localhost", imap, tls, pop3, tls, true, dovecot.certificate())
          .clientIp(user, switch (route.getValue()[0]) {
            case "forward" -> ClientIp.FORWARD;
            case "proxyv2" -> ClientIp.PROXY_V2;
            default -> ClientIp.NONE;
          })
          .passwdLine(PosternFixture.passwdLine(user, users.get(user), "backend=" + user));
    }
    postern = builder.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
    if (logs != null) {
      logs.stop();
    }
  }

  @Test
  void dovecotShouldLogTheClientsAddressForEveryModeButNone() throws Exception {
    for (String user : ROUTES.keySet()) {
      fetch(user, "imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX;UID=1");
      fetch(user, "pop3s://127.0.0.1:" + postern.port("pop3s") + "/1");
    }
    for (Map.Entry<String, String[]> route : ROUTES.entrySet()) {
      String user = route.getKey();
      String expected = route.getValue()[0].equals("none") ? POSTERN : CLIENT;
      for (String service : List.of("imap-login", "pop3-login")) {
        String line = dovecotLogin(service, user);
        assertThat(line).as("%s via %s", user, service).contains("rip=" + expected + ",");
        if (route.getValue()[0].equals("forward")) {
          // Dovecot's session id is Postern's: one search finds a login in both logs.
          Matcher session = Pattern.compile("session=<([0-9a-f]{12})>").matcher(line);
          assertThat(session.find()).as(line).isTrue();
          assertThat(logs.lines()).as("Postern's log line of session %s", session.group(1))
              .anyMatch(l -> l.contains("session=" + session.group(1) + " ")
                  && l.contains("user=" + user));
        }
      }
    }
  }

  /** What Dovecot offers a proxy it trusts: XCLIENT in its greeting (and what CAPA says). */
  @Test
  void dovecotShouldAnnounceXclientInItsGreetingToATrustedProxy() throws Exception {
    try (Conversation c = MailClient.plain(dovecot.pop3Port(), TestTls.shared("localhost"))) {
      assertThat(c.readLine()).startsWith("+OK [XCLIENT] ");
      c.send("CAPA\r\n");
      List<String> capa = c.readUntil(".");
      System.out.println("Dovecot's CAPA to a trusted proxy: " + capa);
    }
    try (Conversation c = MailClient.plainFrom(CLIENT, dovecot.pop3Port(),
        TestTls.shared("localhost"))) {
      assertThat(c.readLine()).as("to an untrusted client").startsWith("+OK ")
          .doesNotContain("XCLIENT");
    }
  }

  /**
   * The login cost of {@code forward}, a benchmark run only when asked
   * ({@code -Dit.excludedGroups= -Dclientip.bench=N}, N = 100 by default): logs in N times per
   * mode and protocol, interleaved, and prints the median and 90th percentile of the login's time (from
   * the command to the reply: auth, backend connect, greeting, CAPABILITY, ID/XCLIENT, login).
   */
  @Test
  @Tag("bench")
  void measureTheLoginCostOfForward() throws Exception {
    int n = Integer.getInteger("clientip.bench", 100);
    Map<String, List<Long>> imap = new LinkedHashMap<>();
    Map<String, List<Long>> pop3 = new LinkedHashMap<>();
    Map<String, Long> cpu = new LinkedHashMap<>();
    var os = (com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean();
    for (int i = 0; i < n + 20; i++) {
      for (String user : List.of("none-plain", "forward-plain", "proxyv2-plain")) {
        long cpuBefore = os.getProcessCpuTime();
        long imapNanos = imapLogin(user);
        long pop3Nanos = pop3Login(user);
        if (i >= 20) {
          imap.computeIfAbsent(user, u -> new ArrayList<>()).add(imapNanos);
          pop3.computeIfAbsent(user, u -> new ArrayList<>()).add(pop3Nanos);
          cpu.merge(user, os.getProcessCpuTime() - cpuBefore, Long::sum);
        }
      }
    }
    // What forward adds, alone: the ID / XCLIENT round trip at Dovecot, as Postern sends it.
    List<Long> id = new ArrayList<>();
    List<Long> xclient = new ArrayList<>();
    for (int i = 0; i < n + 20; i++) {
      long idNanos;
      try (Conversation c = MailClient.plain(dovecot.imapPort(), null)) {
        c.expect("* OK");
        long start = System.nanoTime();
        c.send("I1 ID (\"x-originating-ip\" \"127.0.0.7\" \"x-originating-port\" \"40000\""
            + " \"x-connected-ip\" \"127.0.0.1\" \"x-connected-port\" \"993\""
            + " \"x-session-id\" \"0123456789ab\")\r\n");
        c.readUntil("I1 OK");
        idNanos = System.nanoTime() - start;
      }
      long xclientNanos;
      try (Conversation c = MailClient.plain(dovecot.pop3Port(), null)) {
        c.expect("+OK [XCLIENT]");
        long start = System.nanoTime();
        c.send("XCLIENT ADDR=127.0.0.7 PORT=40000 SESSION=0123456789ab\r\n");
        c.expect("+OK");
        xclientNanos = System.nanoTime() - start;
      }
      if (i >= 20) {
        id.add(idNanos);
        xclient.add(xclientNanos);
      }
    }
    System.out.printf("BENCH round trip at Dovecot: ID median %.3f ms p90 %.3f ms | XCLIENT"
            + " median %.3f ms p90 %.3f ms (n=%d)%n", percentile(id, 50), percentile(id, 90),
        percentile(xclient, 50), percentile(xclient, 90), n);
    for (String user : imap.keySet()) {
      System.out.printf("BENCH %-14s imap median %.2f ms p90 %.2f ms | pop3 median %.2f ms"
              + " p90 %.2f ms | JVM CPU per IMAP+POP3 session pair %.2f ms (n=%d)%n", user,
          percentile(imap.get(user), 50), percentile(imap.get(user), 90),
          percentile(pop3.get(user), 50), percentile(pop3.get(user), 90),
          cpu.get(user) / 1e6 / n, n);
    }
  }

  private long imapLogin(String user) throws IOException {
    try (Conversation c = fromClient(postern.port("imaps"))) {
      c.expect("* OK");
      long start = System.nanoTime();
      c.send("a LOGIN " + user + " " + user + "-pw\r\n");
      c.expect("a OK");
      long took = System.nanoTime() - start;
      c.send("b LOGOUT\r\n");
      c.readUntil("b ");
      return took;
    }
  }

  private long pop3Login(String user) throws IOException {
    try (Conversation c = fromClient(postern.port("pop3s"))) {
      c.expect("+OK");
      c.send("USER " + user + "\r\n");
      c.expect("+OK");
      long start = System.nanoTime();
      c.send("PASS " + user + "-pw\r\n");
      c.expect("+OK");
      long took = System.nanoTime() - start;
      c.send("QUIT\r\n");
      c.expect("+OK");
      return took;
    }
  }

  /** Implicit TLS to Postern from {@link #CLIENT}, trusting Postern's certificate. */
  private Conversation fromClient(int port) throws IOException {
    Socket plain = new Socket();
    plain.bind(new InetSocketAddress(InetAddress.getByName(CLIENT), 0));
    plain.connect(new InetSocketAddress(InetAddress.getByName(POSTERN), port), 10_000);
    plain.setSoTimeout(20_000);
    SSLSocket tls = (SSLSocket) TestTls.trusting(cert.cert()).getSocketFactory()
        .createSocket(plain, "localhost", port, true);
    tls.startHandshake();
    return MailClient.wrap(tls, null);
  }

  private static double percentile(List<Long> nanos, int p) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100)) / 1e6;
  }

  private void fetch(String user, String url) throws Exception {
    Path out = dir.resolve("fetched.eml");
    Files.deleteIfExists(out);
    ProcessResult r = Clients.curl(CLIENT_TIMEOUT, "--interface", CLIENT, "--cacert",
        cert.cert().toString(), "-u", user + ":" + user + "-pw", "-o", out.toString(), url);
    assertThat(r.exitCode()).as("%s %s: %s", user, url, r).isZero();
    assertThat(sha256(Files.readAllBytes(out))).as("%s %s", user, url).isEqualTo(sha256(message));
  }

  /** Dovecot's "Login:" line for {@code user} from {@code service}, waiting for it a while. */
  private String dovecotLogin(String service, String user) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      for (String line : dovecot.logText().split("\n")) {
        if (line.contains(service + ": ") && line.contains(" Login: user=<" + user + ">")) {
          return line;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + service + " login of " + user + " in Dovecot's log:\n"
            + dovecot.logText());
      }
      Thread.sleep(50);
    }
  }
}
