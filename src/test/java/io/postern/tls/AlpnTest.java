package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import io.postern.config.TlsConfig.Engine;
import io.postern.it.RealParts;
import io.postern.testing.Conversation;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.MetricsReader;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * ALPACA (USENIX Security 2021): a client that offers ALPN protocols, none of them the listener's
 * ({@code imap} or {@code pop3}), is refused with the {@code no_application_protocol} alert
 * before any session; one that offers the listener's protocol among others gets it selected; one
 * that offers none is served as before. A JDK client, on every path: both engines, one
 * certificate or several (SNI), implicit TLS and STARTTLS/STLS, IMAP and POP3.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AlpnTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  // Short, so the stalled handshakes below cost little; real handshakes here take milliseconds.
  private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);
  private static final List<String> LISTENERS = List.of("imaps", "imap", "pop3s", "pop3");

  @TempDir
  static Path dir;

  private final Map<String, PosternFixture> fixtures = new HashMap<>();

  @AfterAll
  void stop() throws Exception {
    for (PosternFixture f : fixtures.values()) {
      f.close();
    }
  }

  /** One Postern per engine and certificate count, shared by every test of the class. */
  private PosternFixture postern(Engine engine, boolean sni) throws Exception {
    if (engine == Engine.OPENSSL && !OpenSSLEngineOptions.isAvailable()) {
      RealParts.missing("netty-tcnative (OpenSSL engine) cannot load on this platform");
    }
    String key = engine + (sni ? "-sni" : "");
    PosternFixture f = fixtures.get(key);
    if (f == null) {
      PosternFixture.Builder builder = PosternFixture.builder(dir.resolve(key)).engine(engine)
          .proxyProtocolListeners().trustedNetwork("127.0.0.1/32")
          .handshakeTimeout(HANDSHAKE_TIMEOUT);
      if (sni) {
        TestTls localhost = TestTls.shared("localhost");
        TestTls other = TestTls.shared("mail.example.org");
        builder.certificate(localhost.certPath(), localhost.keyPath())
            .certificate(other.certPath(), other.keyPath());
      }
      f = builder.start();
      fixtures.put(key, f);
    }
    return f;
  }

  /** A listener of a fixture: engine, SNI or not, listener name. */
  record Path3(Engine engine, boolean sni, String listener) {
    boolean imap() {
      return listener.startsWith("imap");
    }

    boolean starttls() {
      return !listener.endsWith("s");
    }

    String own() {
      return imap() ? "imap" : "pop3";
    }

    String otherMail() {
      return imap() ? "pop3" : "imap";
    }

    @Override
    public String toString() {
      return engine + (sni ? " + SNI" : "") + ", " + listener
          + (starttls() ? " (STARTTLS)" : " (implicit TLS)");
    }
  }

  static Stream<Path3> everyPath() {
    List<Path3> out = new ArrayList<>();
    for (Engine engine : List.of(Engine.OPENSSL, Engine.JDK)) {
      for (boolean sni : List.of(false, true)) {
        for (String listener : LISTENERS) {
          out.add(new Path3(engine, sni, listener));
        }
      }
    }
    return out.stream();
  }

  /** Offers that must be refused on a listener: the web, and the other mail protocol. */
  static Stream<Arguments> everyPathAndForeignOffer() {
    return everyPath().flatMap(p -> Stream.of(
        Arguments.of(p, List.of("http/1.1")),
        Arguments.of(p, List.of("h2", "http/1.1")),
        Arguments.of(p, List.of(p.otherMail()))));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("everyPathAndForeignOffer")
  void aClientOfferingOnlyForeignProtocolsShouldGetTheNoApplicationProtocolAlert(Path3 path,
      List<String> offer) throws Exception {
    PosternFixture postern = postern(path.engine(), path.sni());
    String[] refused = {"listener", path.listener(), "result", "no_application_protocol",
        "version", "none"};
    String[] failed = {"listener", path.listener(), "result", "failure", "version", "none"};
    double refusedBefore = MetricsReader.value(postern, "postern_tls_handshakes_total", refused);
    double failedBefore = MetricsReader.value(postern, "postern_tls_handshakes_total", failed);

    assertThatThrownBy(() -> handshake(postern, path, offer).close())
        .isInstanceOf(SSLHandshakeException.class)
        .hasMessageContaining("no_application_protocol");

    await().atMost(WAIT).untilAsserted(() -> assertThat(MetricsReader.value(postern,
        "postern_tls_handshakes_total", refused)).isEqualTo(refusedBefore + 1));
    assertThat(MetricsReader.value(postern, "postern_tls_handshakes_total", failed))
        .isEqualTo(failedBefore);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyPath")
  void aClientOfferingTheListenersProtocolAmongOthersShouldBeServedWithItSelected(Path3 path)
      throws Exception {
    PosternFixture postern = postern(path.engine(), path.sni());
    try (SSLSocket socket = handshake(postern, path, List.of("http/1.1", path.own(), "h2"))) {
      assertThat(socket.getApplicationProtocol()).isEqualTo(path.own());
      assertServed(socket, path);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyPath")
  void aClientOfferingNoAlpnShouldBeServedAsBefore(Path3 path) throws Exception {
    PosternFixture postern = postern(path.engine(), path.sni());
    try (SSLSocket socket = handshake(postern, path, List.of())) {
      assertThat(socket.getApplicationProtocol()).as("no ALPN negotiated").isEmpty();
      assertServed(socket, path);
    }
  }

  /**
   * Holding a ClientHello until it is whole must not hold the connection: half of one is closed
   * at the handshake timeout (5 s in the fixture) like any stalled handshake.
   */
  /** Each engine, implicit TLS and STARTTLS (each run waits out the 5 s handshake timeout). */
  static Stream<Path3> someStalledPaths() {
    return everyPath().filter(p -> !p.sni() && (p.listener().equals("imaps")
        || p.listener().equals("pop3")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("someStalledPaths")
  void halfAClientHelloShouldBeClosedAtTheHandshakeTimeout(Path3 path) throws Exception {
    PosternFixture postern = postern(path.engine(), path.sni());
    try (Conversation c = MailClient.plain(postern.port(path.listener()),
        TestTls.shared("localhost"))) {
      if (path.starttls()) {
        c.expect(path.imap() ? "* OK" : "+OK");
        c.send(path.imap() ? "a STARTTLS\r\n" : "STLS\r\n");
        c.expect(path.imap() ? "a OK" : "+OK");
      }
      byte[] hello = ClientHelloReaderTest.clientHello("http/1.1");
      long start = System.nanoTime();
      c.sendRaw(java.util.Arrays.copyOf(hello, hello.length / 2));
      c.socket().setSoTimeout(15_000);
      InputStream in = c.socket().getInputStream();
      byte[] got = in.readNBytes(100); // until the close; at most an alert comes first
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .isBetween(HANDSHAKE_TIMEOUT.multipliedBy(3).dividedBy(4),
              HANDSHAKE_TIMEOUT.plusSeconds(8));
      if (got.length > 0) {
        assertThat(got[0]).as("a TLS alert record").isEqualTo((byte) 21);
      }
    }
  }

  @Test
  void aRefusalShouldBeLoggedAtDebugWithTheClientAndItsOffer() throws Exception {
    PosternFixture postern = postern(Engine.JDK, false);
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger("io.postern.tls.AlpnCheckingSslHandler");
    Level level = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    LogCapture logs = LogCapture.start();
    try {
      assertThatThrownBy(() -> handshake(postern, new Path3(Engine.JDK, false, "imaps"),
          List.of("http/1.1", "bad\nname")).close()).isInstanceOf(SSLHandshakeException.class);
      await().atMost(WAIT).untilAsserted(() -> assertThat(logs.lines()).anySatisfy(line ->
          assertThat(line).contains("listener imaps: TLS client /127.0.0.1:")
              .contains("offered ALPN [http/1.1, bad\\x0aname] without imap")
              .contains("no_application_protocol")));
    } finally {
      logs.stop();
      logger.setLevel(level);
    }
  }

  /** Behind a load balancer the alert is the same, and the log names the client it vouched for. */
  @Test
  void aRefusalBehindAProxyShouldNameTheClientFromTheProxyHeader() throws Exception {
    PosternFixture postern = postern(Engine.JDK, false);
    String[] refused = {"listener", "imap-proxied", "result", "no_application_protocol",
        "version", "none"};
    double before = MetricsReader.value(postern, "postern_tls_handshakes_total", refused);
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger("io.postern.tls.AlpnCheckingSslHandler");
    Level level = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    LogCapture logs = LogCapture.start();
    TestTls tls = TestTls.shared("localhost");
    int port = postern.port("imap-proxied");
    try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
      raw.getOutputStream().write("PROXY TCP4 198.51.100.7 127.0.0.1 50000 993\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      SSLSocket socket = (SSLSocket) tls.clientContext().getSocketFactory()
          .createSocket(raw, tls.host(), port, false);
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"http/1.1"});
      socket.setSSLParameters(parameters);
      assertThatThrownBy(socket::startHandshake).isInstanceOf(SSLHandshakeException.class)
          .hasMessageContaining("no_application_protocol");
      await().atMost(WAIT).untilAsserted(() -> assertThat(logs.lines()).anySatisfy(line ->
          assertThat(line).contains("listener imap-proxied: TLS client 198.51.100.7:50000"
              + " offered ALPN [http/1.1] without imap")));
      await().atMost(WAIT).untilAsserted(() -> assertThat(MetricsReader.value(postern,
          "postern_tls_handshakes_total", refused)).isEqualTo(before + 1));
    } finally {
      logs.stop();
      logger.setLevel(level);
    }
  }

  /**
   * A JDK client's handshake on {@code path}, offering {@code offer} by ALPN (nothing if empty);
   * for STARTTLS/STLS after the greeting and the upgrade command.
   */
  private static SSLSocket handshake(PosternFixture postern, Path3 path, List<String> offer)
      throws IOException {
    TestTls tls = TestTls.shared("localhost");
    int port = postern.port(path.listener());
    Conversation plain = MailClient.plain(port, tls);
    try {
      if (path.starttls()) {
        plain.expect(path.imap() ? "* OK" : "+OK");
        plain.send(path.imap() ? "a STARTTLS\r\n" : "STLS\r\n");
        plain.expect(path.imap() ? "a OK" : "+OK");
      }
      SSLSocket socket = (SSLSocket) tls.clientContext().getSocketFactory()
          .createSocket(plain.socket(), tls.host(), port, true);
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      if (!offer.isEmpty()) {
        parameters.setApplicationProtocols(offer.toArray(String[]::new));
      }
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      return socket;
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  /** The session goes on over TLS: the greeting (implicit TLS) or a NOOP or CAPA answered (STARTTLS). */
  private static void assertServed(SSLSocket socket, Path3 path) throws IOException {
    Conversation c = MailClient.wrap(socket, TestTls.shared("localhost"));
    if (path.starttls()) {
      c.send(path.imap() ? "a NOOP\r\n" : "CAPA\r\n");
      c.expect(path.imap() ? "a OK" : "+OK");
    } else {
      c.expect(path.imap() ? "* OK" : "+OK");
    }
  }
}
