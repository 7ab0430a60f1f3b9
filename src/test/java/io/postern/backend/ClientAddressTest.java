package io.postern.backend;

import static io.postern.backend.BackendLoginTest.CONNECT_TIMEOUT;
import static io.postern.backend.BackendLoginTest.LOGIN_TIMEOUT;
import static io.postern.testing.PosternFixture.passwdLine;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a backend learns about the client ({@code client-ip}): with {@code forward} one IMAP ID
 * with Dovecot's x- fields and the client's own RFC 2971 fields, or POP3 XCLIENT; with
 * {@code proxy-v2} a PROXY v2 header before anything else, TLS included; a backend without the
 * extension still logs the user in, with one warning per server. The bytes are asserted as the
 * fake backends received them. Clients connect from 127.0.0.7, Postern listens on 127.0.0.1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientAddressTest {

  private static final String PW = "secret";
  private static final String CLIENT = "127.0.0.7";
  private static final String WARNING = "logins go on without the client's address";
  private static final Pattern SESSION = Pattern.compile("[0-9a-f]{12}");

  @TempDir
  static Path dir;

  private final TestTls tls = TestTls.shared("localhost");
  private final FakeBackends fakes = new FakeBackends();
  /** Per backend, the PROXY header each connection started with. */
  private final Map<String, List<byte[]>> headers = new ConcurrentHashMap<>();
  private PosternFixture.Builder builder;
  private PosternFixture postern;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    logs = LogCapture.start();
    builder = PosternFixture.builder(dir).maxAttempts(20)
        .backendTimeouts(CONNECT_TIMEOUT, LOGIN_TIMEOUT)
        .trustedNetwork("127.0.0.0/8")
        .proxyProtocolListeners()
        .listener("imaps6", Protocol.IMAP, "::1", TlsMode.IMPLICIT);

    imap("fwdid", ClientIp.FORWARD, "IMAP4rev1 ID");
    imap("fwdproxied", ClientIp.FORWARD, "IMAP4rev1 ID");
    imap("fwdnoid", ClientIp.FORWARD, "IMAP4rev1");
    imap("noneid", ClientIp.NONE, "IMAP4rev1 ID");
    pop3("xclient", ClientIp.FORWARD, "+OK [XCLIENT] Dovecot ready.", "+OK Updated");
    pop3("noxclient", ClientIp.FORWARD, "+OK Dovecot ready.", null);
    pop3("xclientrefused", ClientIp.FORWARD, "+OK [XCLIENT] ready.", "-ERR Not trusted");
    pop3("nonexclient", ClientIp.NONE, "+OK [XCLIENT] Dovecot ready.", "+OK Updated");
    pop3StartTls("xclientstls");

    FakeBackend pv2 = fakes.add("pv2", FakeBackend.start(afterHeader("pv2", false,
        imapLogin("pv2", "IMAP4rev1")), tls));
    builder.backend("pv2", "127.0.0.1", pv2.port(), TlsMode.NONE, pv2.port(), TlsMode.NONE, true,
        null).clientIp("pv2", ClientIp.PROXY_V2)
        .passwdLine(passwdLine("pv2", PW, "backend=pv2"));
    // Implicit TLS behind the header: a plain socket that reads the header, then TLS.
    FakeBackend pv2tls = fakes.add("pv2tls", FakeBackend.start(afterHeader("pv2tls", true,
        imapLogin("pv2tls", "IMAP4rev1")), tls));
    builder.backend("pv2tls", "localhost", pv2tls.port(), TlsMode.IMPLICIT, 1, TlsMode.NONE, true,
        tls.certPath()).clientIp("pv2tls", ClientIp.PROXY_V2)
        .passwdLine(passwdLine("pv2tls", PW, "backend=pv2tls"));
    postern = builder.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    fakes.close();
    logs.stop();
  }

  // ---------------------------------------------------------------- IMAP ID

  @Test
  void forwardShouldSendOneIdWithDovecotsFieldsAndOnlyTheClientsRfc2971Fields()
      throws Exception {
    int clientPort;
    try (Conversation c = imapsFrom(CLIENT)) {
      clientPort = c.socket().getLocalPort();
      c.send("t1 ID (\"name\" \"Tester\" \"x-originating-ip\" \"192.0.2.66\""
          + " \"X-Session-ID\" \"forged\" \"version\" \"1.0\")\r\n");
      c.readUntil("t1 ");
      c.send("t2 LOGIN fwdid secret\r\n");
      assertThat(c.readLine()).startsWith("t2 OK");
    }
    List<String> got = fakes.get("fwdid").received();
    assertThat(got).hasSize(2);
    Matcher id = Pattern.compile(Pattern.quote("I1 ID (\"x-originating-ip\" \"127.0.0.7\""
        + " \"x-originating-port\" \"" + clientPort + "\" \"x-connected-ip\" \"127.0.0.1\""
        + " \"x-connected-port\" \"" + postern.port("imaps") + "\" \"x-session-id\" \"")
        + "(" + SESSION + ")" + Pattern.quote("\" \"name\" \"Tester\" \"version\" \"1.0\")"))
        .matcher(got.get(0));
    assertThat(id.matches()).as(got.get(0)).isTrue();
    assertThat(got.get(1)).isEqualTo("L1 LOGIN \"fwdid\" \"secret\"");
    assertThat(String.join("\n", got)).doesNotContain("192.0.2.66").doesNotContain("forged");
    // The backend's session id is Postern's: one search finds both log lines.
    assertLogged("session=" + id.group(1) + " listener=imaps");
  }

  @Test
  void forwardShouldSendTheAddressesOfATrustedProxyHeader() throws Exception {
    try (Conversation c = proxied(postern.port("imap-proxied"),
        "PROXY TCP4 203.0.113.9 198.51.100.1 4711 993\r\n")) {
      c.expect("* OK");
      c.send("t1 LOGIN fwdproxied secret\r\n");
      assertThat(c.readLine()).startsWith("t1 OK");
    }
    assertThat(fakes.get("fwdproxied").received()).first().asString().matches(Pattern.quote(
        "I1 ID (\"x-originating-ip\" \"203.0.113.9\" \"x-originating-port\" \"4711\""
            + " \"x-connected-ip\" \"198.51.100.1\" \"x-connected-port\" \"993\""
            + " \"x-session-id\" \"") + SESSION + "\"\\)");
  }

  @Test
  void aBackendWithoutIdShouldLogInWithoutItAndBeWarnedAboutOnce() throws Exception {
    for (int i = 0; i < 3; i++) {
      try (Conversation c = imapsFrom(CLIENT)) {
        c.send("t1 ID (\"name\" \"Tester\")\r\n");
        c.readUntil("t1 ");
        c.send("t2 LOGIN fwdnoid secret\r\n");
        assertThat(c.readLine()).startsWith("t2 OK");
      }
    }
    assertThat(fakes.get("fwdnoid").received()).containsOnly("L1 LOGIN \"fwdnoid\" \"secret\"");
    assertThat(logs.lines()).filteredOn(l -> l.contains(WARNING) && l.contains("fwdnoid"))
        .hasSize(1).allMatch(l -> l.contains("does not list ID"));
  }

  @Test
  void noneShouldSendNoIdOfItsOwn() throws Exception {
    try (Conversation c = imapsFrom(CLIENT)) {
      c.send("t1 LOGIN noneid secret\r\n");
      assertThat(c.readLine()).startsWith("t1 OK");
    }
    assertThat(fakes.get("noneid").received()).containsExactly("L1 LOGIN \"noneid\" \"secret\"");
  }

  // ---------------------------------------------------------------- POP3 XCLIENT

  @Test
  void forwardShouldSendXclientBeforeTheCredentialsWhenTheGreetingAnnouncesIt()
      throws Exception {
    int clientPort = pop3Login("xclient");
    List<String> got = fakes.get("xclient").received();
    assertThat(got).hasSize(4);
    assertThat(got.get(0)).isEqualTo("CAPA");
    assertThat(got.get(1)).matches(Pattern.quote("XCLIENT ADDR=127.0.0.7 PORT=" + clientPort
        + " SESSION=") + SESSION);
    assertThat(got.subList(2, 4)).containsExactly("USER xclient", "PASS secret");
  }

  @Test
  void xclientShouldGoOverTlsAfterStls() throws Exception {
    pop3Login("xclientstls");
    List<String> log = fakes.tlsLog("xclientstls");
    assertThat(log).hasSize(5);
    assertThat(log.subList(0, 2)).containsExactly("plain: STLS", "tls: CAPA");
    assertThat(log.get(2)).startsWith("tls: XCLIENT ADDR=127.0.0.7 PORT=");
    assertThat(log.subList(3, 5)).containsExactly("tls: USER xclientstls", "tls: PASS secret");
  }

  @Test
  void aBackendWithoutXclientShouldLogInWithoutItAndBeWarnedAboutOnce() throws Exception {
    pop3Login("noxclient");
    pop3Login("noxclient");
    assertThat(fakes.get("noxclient").received()).noneMatch(l -> l.startsWith("XCLIENT"));
    assertThat(logs.lines()).filteredOn(l -> l.contains(WARNING) && l.contains("noxclient"))
        .hasSize(1).allMatch(l -> l.contains("announces no XCLIENT"));
  }

  @Test
  void aRefusedXclientShouldStillLetTheUserIn() throws Exception {
    pop3Login("xclientrefused");
    assertThat(fakes.get("xclientrefused").received()).anyMatch(l -> l.startsWith("XCLIENT "))
        .contains("PASS secret");
    assertThat(logs.lines()).anyMatch(l -> l.contains(WARNING)
        && l.contains("refused XCLIENT: -ERR Not trusted"));
  }

  @Test
  void noneShouldNotSendXclientEvenWhenOffered() throws Exception {
    pop3Login("nonexclient");
    assertThat(fakes.get("nonexclient").received())
        .containsExactly("CAPA", "USER nonexclient", "PASS secret");
  }

  // ---------------------------------------------------------------- PROXY v2

  @Test
  void proxyV2ShouldStartTheConnectionWithATcp4Header() throws Exception {
    int clientPort;
    try (Conversation c = imapsFrom(CLIENT)) {
      clientPort = c.socket().getLocalPort();
      c.send("t1 LOGIN pv2 secret\r\n");
      assertThat(c.readLine()).startsWith("t1 OK");
    }
    assertThat(headers.get("pv2")).anySatisfy(h -> assertThat(hex(h)).isEqualTo(
        "0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "7f000007" + "7f000001"
            + port(clientPort) + port(postern.port("imaps"))));
    assertThat(fakes.get("pv2").received()).contains("L1 LOGIN \"pv2\" \"secret\"");
  }

  @Test
  void proxyV2ShouldCarryIpv6Addresses() throws Exception {
    int clientPort;
    try (Conversation c = MailClient.implicitTls("::1", postern.port("imaps6"), tls)) {
      c.expect("* OK");
      clientPort = c.socket().getLocalPort();
      c.send("t1 LOGIN pv2 secret\r\n");
      assertThat(c.readLine()).startsWith("t1 OK");
    }
    String loopback6 = "00000000000000000000000000000001";
    assertThat(headers.get("pv2")).anySatisfy(h -> assertThat(hex(h)).isEqualTo(
        "0d0a0d0a000d0a515549540a" + "21" + "21" + "0024" + loopback6 + loopback6
            + port(clientPort) + port(postern.port("imaps6"))));
  }

  @Test
  void proxyV2ShouldComeBeforeTheTlsHandshakeOfAnImplicitTlsBackend() throws Exception {
    try (Conversation c = imapsFrom(CLIENT)) {
      c.send("t1 LOGIN pv2tls secret\r\n");
      assertThat(c.readLine()).startsWith("t1 OK");
    }
    assertThat(hex(headers.get("pv2tls").get(0))).startsWith(
        "0d0a0d0a000d0a515549540a" + "21" + "11" + "000c" + "7f000007" + "7f000001");
    assertThat(fakes.get("pv2tls").received()).containsExactly("L1 LOGIN \"pv2tls\" \"secret\"");
  }

  /** Health checks connect on nobody's behalf: a LOCAL header, which Dovecot's haproxy=yes takes. */
  @Test
  void aConnectionWithoutAClientShouldStartWithALocalHeader() throws Exception {
    int port = fakes.get("pv2").port();
    BackendConnector connector = new BackendConnector(postern.vertx(), postern.config(),
        new BackendPools(List.of(), Map.of()), (backend, nanos) -> { });
    try {
      var socket = connector.connect(new BackendTarget("pv2", "127.0.0.1", "127.0.0.1", port,
          TlsMode.NONE, null, ClientIp.PROXY_V2)).await();
      socket.close().await();
    } finally {
      connector.close().await();
    }
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(headers.get("pv2")).anySatisfy(h -> assertThat(hex(h))
            .isEqualTo("0d0a0d0a000d0a515549540a" + "20" + "00" + "0000")));
  }

  // ---------------------------------------------------------------- helpers

  private void imap(String name, ClientIp mode, String caps) throws IOException {
    FakeBackend fake = fakes.add(name, FakeBackend.start(imapLogin(name, caps), tls));
    builder.backend(name, "127.0.0.1", fake.port(), TlsMode.NONE, 1, TlsMode.NONE, true, null)
        .clientIp(name, mode).passwdLine(passwdLine(name, PW, "backend=" + name));
  }

  private static FakeBackend.Script imapLogin(String user, String caps) {
    return BackendScripts.imap(caps, user, PW, BackendScripts.imapCommands(user));
  }

  /**
   * A POP3 backend greeting with {@code greeting}, answering XCLIENT with {@code xclientReply}
   * (or -ERR as an unknown command when null); USER/PASS as usual.
   */
  private void pop3(String name, ClientIp mode, String greeting, String xclientReply)
      throws IOException {
    FakeBackend fake = fakes.add(name, FakeBackend.start(c -> {
      c.send(greeting + "\r\n");
      pop3Commands(c, name, xclientReply, null);
    }, tls));
    builder.backend(name, "127.0.0.1", 1, TlsMode.NONE, fake.port(), TlsMode.NONE, true, null)
        .clientIp(name, mode).passwdLine(passwdLine(name, PW, "backend=" + name));
  }

  /** A Dovecot-like POP3 backend used with STLS; logs each line with its TLS state. */
  private void pop3StartTls(String name) throws IOException {
    List<String> log = fakes.tlsLog(name);
    FakeBackend fake = fakes.add(name, FakeBackend.start(c -> {
      c.send("+OK [XCLIENT] Dovecot ready.\r\n");
      pop3Commands(c, name, "+OK Updated", log);
    }, tls));
    builder.backend(name, "localhost", 1, TlsMode.NONE, fake.port(), TlsMode.STARTTLS, true,
        tls.certPath()).clientIp(name, ClientIp.FORWARD)
        .passwdLine(passwdLine(name, PW, "backend=" + name));
  }

  private static void pop3Commands(Conversation c, String user, String xclientReply,
      List<String> log) throws Exception {
    while (true) {
      String line = c.readLine();
      if (log != null) {
        log.add((c.isTls() ? "tls: " : "plain: ") + line);
      }
      String command = line.split(" ", 2)[0].toUpperCase();
      switch (command) {
        case "CAPA" -> c.send("+OK\r\nUSER\r\n.\r\n");
        case "STLS" -> {
          c.send("+OK Begin TLS\r\n");
          c.startTls(false);
        }
        case "XCLIENT" -> c.send((xclientReply == null ? "-ERR Unknown command." : xclientReply)
            + "\r\n");
        case "USER" -> c.send("+OK\r\n");
        case "PASS" -> {
          c.send("+OK Logged in.\r\n");
          BackendScripts.pop3Commands().run(c);
          return;
        }
        default -> c.send("-ERR unexpected\r\n");
      }
    }
  }

  /** Reads a PROXY v2 header (kept for the test), then optionally TLS, then {@code then}. */
  private FakeBackend.Script afterHeader(String name, boolean tlsAfter, FakeBackend.Script then) {
    List<byte[]> got = headers.computeIfAbsent(name, n -> new CopyOnWriteArrayList<>());
    return c -> {
      byte[] fixed = c.readBytes(16);
      int length = ByteBuffer.wrap(fixed, 14, 2).getShort() & 0xffff;
      byte[] block = c.readBytes(length);
      got.add(ByteBuffer.allocate(16 + length).put(fixed).put(block).array());
      if (fixed[12] == 0x20) {
        return;
      }
      if (tlsAfter) {
        c.startTls(false);
      }
      then.run(c);
    };
  }

  /** Logs in over pop3s from {@link #CLIENT}; returns the client's port. */
  private int pop3Login(String user) throws IOException {
    try (Conversation c = MailClient.implicitTlsFrom(CLIENT, postern.port("pop3s"), tls)) {
      c.expect("+OK");
      c.send("USER " + user + "\r\n");
      c.expect("+OK");
      c.send("PASS secret\r\n");
      assertThat(c.readLine()).startsWith("+OK Logged in.");
      return c.socket().getLocalPort();
    }
  }

  private Conversation imapsFrom(String from) throws IOException {
    Conversation c = MailClient.implicitTlsFrom(from, postern.port("imaps"), tls);
    c.expect("* OK");
    return c;
  }

  private Conversation proxied(int port, String header) throws IOException {
    Socket raw = new Socket(InetAddress.getLoopbackAddress(), port);
    raw.setSoTimeout(10_000);
    raw.getOutputStream().write(header.getBytes(StandardCharsets.US_ASCII));
    SSLSocket socket = (SSLSocket) tls.clientContext().getSocketFactory()
        .createSocket(raw, "localhost", port, true);
    socket.startHandshake();
    return MailClient.wrap(socket, tls);
  }

  private void assertLogged(String text) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (logs.lines().stream().noneMatch(l -> l.contains(text))
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(logs.lines()).anyMatch(l -> l.contains(text));
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  private static String port(int port) {
    return String.format("%04x", port);
  }
}
