package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsConfig.Engine;
import io.postern.it.RealParts;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.OpensslTool;
import io.postern.testing.PosternFixture;
import io.postern.testing.SClient;
import io.postern.testing.SClient.Handshake;
import io.postern.testing.SClient.Target;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a real TLS client ({@code openssl s_client}) sees of Postern's server TLS, for both engines
 * (OpenSSL/BoringSSL via netty-tcnative, and the JDK) and on all four listeners: implicit TLS
 * ({@code imaps}, {@code pop3s}) and STARTTLS/STLS ({@code imap}, {@code pop3}). Every check runs
 * on every path with the same expectation, which is TLS-04 (one policy for both paths).
 *
 * <p>The "refused" checks only mean something if the client really offers what the server is
 * expected to refuse: OpenSSL 3 clients refuse TLS 1.0/1.1 themselves at the default security
 * level, which would make those tests pass for the wrong reason. So every refused offer uses
 * {@code @SECLEVEL=0} and the two {@code clientCan...} tests prove, against a throwaway permissive
 * {@code openssl s_server} on loopback, that exactly these client commands do negotiate TLS 1.0,
 * TLS 1.1, the CBC and non-ECDHE suites, and do complete a renegotiation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerTlsTest {

  private static final Duration SHORT = Duration.ofSeconds(5);
  private static final String DEFAULT_CN = "CN = localhost";
  private static final String SNI_HOST = "mail.example.org";
  private static final String SNI_CN = "CN = " + SNI_HOST;
  private static final List<String> LISTENERS = List.of("imap", "imaps", "pop3", "pop3s");

  /** s_client's messages when it refuses by itself; a server refusal must not look like this. */
  private static final List<String> CLIENT_SIDE_REFUSALS = List.of("no protocols available",
      "no ciphers available", "no cipher match", "legacy sigalg disallowed");

  /** How s_client reports a protocol_version (70) or handshake_failure (40) alert from the peer. */
  private static final String PROTOCOL_VERSION_ALERT = "alert protocol version";
  private static final String HANDSHAKE_FAILURE_ALERT = "alert handshake failure";

  /** Mozilla intermediate, TLS 1.2, for an RSA certificate (OpenSSL names). */
  private static final Set<String> ECDHE_RSA_AEAD = Set.of("ECDHE-RSA-AES128-GCM-SHA256",
      "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305");

  private static final Set<String> TLS13_MOZILLA = Set.of("TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  /**
   * A client offer Postern must refuse; {@code protocol}/{@code cipher} say what it asks for,
   * {@code alert} how s_client reports the server's refusal.
   */
  record Offer(String name, List<String> args, String protocol, String cipher, String alert) {
    @Override
    public String toString() {
      return name;
    }
  }

  static List<Offer> refusedOffers() {
    return List.of(
        new Offer("TLS 1.0", List.of("-tls1", "-cipher", "DEFAULT@SECLEVEL=0"), "TLSv1", null,
            PROTOCOL_VERSION_ALERT),
        new Offer("TLS 1.1", List.of("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"), "TLSv1.1",
            null, PROTOCOL_VERSION_ALERT),
        new Offer("TLS 1.2 CBC suite", List.of("-tls1_2", "-cipher",
            "ECDHE-RSA-AES128-SHA@SECLEVEL=0"), "TLSv1.2", "ECDHE-RSA-AES128-SHA",
            HANDSHAKE_FAILURE_ALERT),
        new Offer("TLS 1.2 GCM without ECDHE", List.of("-tls1_2", "-cipher",
            "AES128-GCM-SHA256@SECLEVEL=0"), "TLSv1.2", "AES128-GCM-SHA256",
            HANDSHAKE_FAILURE_ALERT),
        new Offer("TLS 1.2 DHE (dropped by Mozilla 6.0, not in TlsDefaults)", List.of("-tls1_2",
            "-cipher", "DHE-RSA-AES128-GCM-SHA256@SECLEVEL=0"), "TLSv1.2",
            "DHE-RSA-AES128-GCM-SHA256", HANDSHAKE_FAILURE_ALERT));
  }

  @TempDir
  static Path dir;

  private OpensslCertificates.Pair localhost;
  private OpensslCertificates.Pair mail;
  private final Map<Engine, PosternFixture> fixtures = new EnumMap<>(Engine.class);

  @BeforeAll
  void certificates() throws Exception {
    RealParts.require("openssl");
    localhost = OpensslCertificates.selfSigned(dir, "localhost", "localhost", "localhost");
    mail = OpensslCertificates.selfSigned(dir, "mail", SNI_HOST, SNI_HOST);
  }

  @AfterAll
  void stop() throws Exception {
    for (PosternFixture f : fixtures.values()) {
      f.close();
    }
  }

  /** One Postern per engine, started on first use and shared by every test of the class. */
  private PosternFixture postern(Engine engine) throws Exception {
    if (engine == Engine.OPENSSL && !OpenSSLEngineOptions.isAvailable()) {
      RealParts.missing("netty-tcnative (OpenSSL engine) cannot load on this platform");
    }
    PosternFixture f = fixtures.get(engine);
    if (f == null) {
      f = PosternFixture.builder(dir.resolve("postern-" + engine))
          .engine(engine)
          .certificate(localhost.cert(), localhost.key())
          .certificate(mail.cert(), mail.key())
          .start();
      fixtures.put(engine, f);
    }
    return f;
  }

  private Target target(Engine engine, String listener) throws Exception {
    String starttls = switch (listener) {
      case "imap" -> "imap";
      case "pop3" -> "pop3";
      default -> null;
    };
    return new Target(listener, postern(engine).port(listener), starttls);
  }

  static Stream<Arguments> everyPath() {
    List<Arguments> out = new ArrayList<>();
    for (Engine engine : List.of(Engine.OPENSSL, Engine.JDK)) {
      for (String listener : LISTENERS) {
        out.add(Arguments.of(engine, listener));
      }
    }
    return out.stream();
  }

  static Stream<Arguments> everyPathAndRefusedOffer() {
    return everyPath().flatMap(a -> refusedOffers().stream()
        .map(o -> Arguments.of(a.get()[0], a.get()[1], o)));
  }

  static Stream<Arguments> everyPathAndVersion() {
    return everyPath().flatMap(a -> Stream.of("-tls1_2", "-tls1_3")
        .map(v -> Arguments.of(a.get()[0], a.get()[1], v)));
  }

  static Stream<Arguments> everyPathAndServerName() {
    return everyPath().flatMap(a -> Stream.of(
        Arguments.of(a.get()[0], a.get()[1], SNI_HOST, SNI_CN),
        Arguments.of(a.get()[0], a.get()[1], "unknown.example", DEFAULT_CN),
        Arguments.of(a.get()[0], a.get()[1], null, DEFAULT_CN)));
  }

  // ---------------------------------------------------------------- self-checks of the client

  /** A loopback s_server that allows everything the refused offers ask for. */
  private OpensslTool permissiveServer(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("s_server", "-accept", "127.0.0.1:0",
        "-cert", localhost.cert().toString(), "-key", localhost.key().toString(),
        "-cipher", "@SECLEVEL=0:ALL:COMPLEMENTOFALL"));
    args.addAll(List.of(extra));
    OpensslTool server = OpensslTool.start(args);
    if (!server.await(t -> acceptPort(t) > 0, SHORT)) {
      server.close();
      throw new IllegalStateException("s_server did not start: " + server);
    }
    return server;
  }

  private static int acceptPort(OpensslTool server) {
    Matcher m = Pattern.compile("ACCEPT 127\\.0\\.0\\.1:(\\d+)")
        .matcher(server.stdout() + server.stderr());
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedOffers")
  void clientCanNegotiateEveryRefusedOfferWithAPermissiveServer(Offer offer) throws Exception {
    try (OpensslTool server = permissiveServer()) {
      Handshake h = SClient.handshake(new Target("s_server", acceptPort(server), null),
          offer.args().toArray(String[]::new));
      assertThat(h.established()).as("%s", h).isTrue();
      assertThat(h.protocol()).as("%s", h).contains(offer.protocol());
      if (offer.cipher() != null) {
        assertThat(h.cipher()).as("%s", h).contains(offer.cipher());
      }
    }
  }

  @Test
  void clientCanRenegotiateWithAServerThatAllowsIt() throws Exception {
    try (OpensslTool server = permissiveServer("-client_renegotiation")) {
      SClient.Renegotiation r = SClient.renegotiate(new Target("s_server", acceptPort(server), null), null);
      assertThat(r.attempted()).as("%s", r.client()).isTrue();
      assertThat(r.completed()).as("%s", r.client()).isTrue();
    }
    // And the detection also sees a refusal.
    try (OpensslTool server = permissiveServer("-no_renegotiation")) {
      SClient.Renegotiation r = SClient.renegotiate(new Target("s_server", acceptPort(server), null), null);
      assertThat(r.attempted()).as("%s", r.client()).isTrue();
      assertThat(r.completed()).as("%s", r.client()).isFalse();
    }
  }

  // ---------------------------------------------------------------- TLS-01, TLS-03 (refusals)

  @ParameterizedTest(name = "{0} {1}: {2}")
  @MethodSource("everyPathAndRefusedOffer")
  void oldProtocolsAndWeakSuitesAreRefused(Engine engine, String listener, Offer offer)
      throws Exception {
    Handshake h = SClient.handshake(target(engine, listener), offer.args().toArray(String[]::new));
    assertThat(h.established()).as("%s", h).isFalse();
    assertThat(h.exitCode()).as("%s", h).isNotZero();
    assertThat(h.stderr()).as("the client must not have refused by itself: %s", h)
        .doesNotContain(CLIENT_SIDE_REFUSALS.toArray(String[]::new))
        .as("Postern refuses with a TLS alert: %s", h).contains(offer.alert());
    if (listener.equals("imap") || listener.equals("pop3")) {
      // The refusal is the TLS handshake's, after Postern accepted STARTTLS/STLS.
      assertThat(h.stderr()).as("%s", h).doesNotContain("didn't find STARTTLS")
          .doesNotContain("STARTTLS failed");
    }
  }

  // ---------------------------------------------------------------- TLS-02

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("everyPathAndVersion")
  void tls12AndTls13Complete(Engine engine, String listener, String version) throws Exception {
    Handshake h = SClient.handshake(target(engine, listener), version);
    assertThat(h.established()).as("%s", h).isTrue();
    assertThat(h.protocol()).as("%s", h)
        .contains(version.equals("-tls1_2") ? "TLSv1.2" : "TLSv1.3");
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyPath")
  void tls13IsNegotiatedWhenTheClientNamesNoVersion(Engine engine, String listener)
      throws Exception {
    Handshake h = SClient.handshake(target(engine, listener));
    assertThat(h.established()).as("%s", h).isTrue();
    assertThat(h.protocol()).as("%s", h).contains("TLSv1.3");
  }

  // ---------------------------------------------------------------- TLS-03 (what is accepted)

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyPath")
  void rfc9051MandatorySuiteIsAcceptedWithTls12(Engine engine, String listener) throws Exception {
    Handshake h = SClient.handshake(target(engine, listener), "-tls1_2", "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256");
    assertThat(h.established()).as("%s", h).isTrue();
    assertThat(h.protocol()).as("%s", h).contains("TLSv1.2");
    assertThat(h.cipher()).as("%s", h).contains("ECDHE-RSA-AES128-GCM-SHA256");
  }

  /**
   * Enumerates the TLS 1.2 suites the path accepts the way sslscan does: offer every suite
   * OpenSSL knows (ALL:COMPLEMENTOFALL at security level 0, so also NULL, anon, export-grade
   * leftovers, CBC, static RSA, DHE), note the one negotiated, forbid it, repeat until refused.
   * With an RSA certificate, exactly the three ECDHE-RSA AEAD suites of Mozilla intermediate
   * must remain; the same set on every path and engine is TLS-04.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyPath")
  void tls12AcceptsExactlyTheEcdheAeadSuites(Engine engine, String listener) throws Exception {
    Target target = target(engine, listener);
    Set<String> accepted = new LinkedHashSet<>();
    for (int i = 0; i < 40; i++) {
      StringBuilder ciphers = new StringBuilder("@SECLEVEL=0:ALL:COMPLEMENTOFALL");
      accepted.forEach(c -> ciphers.append(":!").append(c));
      Handshake h = SClient.handshake(target, "-tls1_2", "-cipher", ciphers.toString());
      if (!h.established()) {
        assertThat(h.stderr()).as("%s", h)
            .doesNotContain(CLIENT_SIDE_REFUSALS.toArray(String[]::new));
        break;
      }
      assertThat(h.protocol()).as("%s", h).contains("TLSv1.2");
      String cipher = h.cipher().orElseThrow();
      assertThat(accepted.add(cipher)).as("negotiated a forbidden suite again: %s", h).isTrue();
    }
    assertThat(accepted).containsExactlyInAnyOrderElementsOf(ECDHE_RSA_AEAD);
  }

  /** Each TLS 1.3 suite offered alone: Mozilla's three complete, the CCM ones do not. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyPath")
  void tls13AcceptsExactlyTheMozillaSuites(Engine engine, String listener) throws Exception {
    Target target = target(engine, listener);
    Set<String> accepted = new LinkedHashSet<>();
    for (String suite : List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")) {
      Handshake h = SClient.handshake(target, "-tls1_3", "-ciphersuites", suite);
      if (h.established()) {
        assertThat(h.cipher()).as("%s", h).contains(suite);
        accepted.add(suite);
      }
    }
    assertThat(accepted).containsExactlyInAnyOrderElementsOf(TLS13_MOZILLA);
  }

  // ---------------------------------------------------------------- TLS-07 (SNI)

  @ParameterizedTest(name = "{0} {1} SNI {2}")
  @MethodSource("everyPathAndServerName")
  void sniPicksTheCertificateAndDefaultsToTheFirst(Engine engine, String listener,
      String serverName, String expectedSubject) throws Exception {
    List<String> args = serverName == null ? List.of("-noservername")
        : List.of("-servername", serverName);
    for (String version : List.of("-tls1_2", "-tls1_3")) {
      List<String> all = new ArrayList<>(args);
      all.add(version);
      Handshake h = SClient.handshake(target(engine, listener), all.toArray(String[]::new));
      assertThat(h.established()).as("%s", h).isTrue();
      assertThat(h.peerCertificate()).as("%s", h).contains(expectedSubject);
    }
  }

  // ---------------------------------------------------------------- TLS-05

  /**
   * DOS-10: a client must not be able to make the server redo the handshake's public-key work.
   * BoringSSL answers a TLS 1.2 renegotiation ClientHello with a fatal no_renegotiation alert;
   * JSSE accepts it unless the JVM runs with {@code jdk.tls.rejectClientInitiatedRenegotiation=true}
   * (read once, when {@code sun.security.ssl.ServerHandshakeContext} is loaded), and then answers
   * with a fatal handshake_failure alert.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyPath")
  void clientInitiatedRenegotiationDoesNotSucceed(Engine engine, String listener)
      throws Exception {
    String probe = listener.startsWith("imap") ? "r NOOP" : "NOOP";
    SClient.Renegotiation r = SClient.renegotiate(target(engine, listener), probe);
    assertThat(r.attempted()).as("%s", r.client()).isTrue();
    assertThat(r.completed()).as("a second handshake completed: %s", r.client()).isFalse();
  }

  // ---------------------------------------------------------------- the session after TLS

  /**
   * After the handshake the protocol goes on over TLS: CAPABILITY/CAPA now offers the password
   * mechanisms. Several connections, because each listener runs one instance per event loop
   * and every instance must be able to upgrade (SharedServerTls).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyPath")
  void sessionWorksAfterTheHandshakeOnEveryListenerInstance(Engine engine, String listener)
      throws Exception {
    boolean imap = listener.startsWith("imap");
    for (int i = 0; i < 6; i++) {
      try (OpensslTool client = SClient.start(target(engine, listener),
          List.of("-nocommands"))) {
        assertThat(client.awaitStderr("CONNECTION ESTABLISHED", SClient.HANDSHAKE_TIMEOUT))
            .as("connection %d: %s", i, client).isTrue();
        if (imap) {
          client.send("a CAPABILITY");
          assertThat(client.awaitStdout("a OK", SHORT)).as("connection %d: %s", i, client)
              .isTrue();
          assertThat(client.stdout()).as("connection %d", i)
              .containsPattern("(?m)^\\* CAPABILITY .*AUTH=PLAIN")
              .doesNotContain("LOGINDISABLED");
          client.send("b LOGOUT");
          assertThat(client.awaitStdout("b OK", SHORT)).as("connection %d: %s", i, client)
              .isTrue();
        } else {
          client.send("CAPA");
          assertThat(client.await(t -> t.stdout().matches("(?s).*\r?\n\\.\r?\n.*"), SHORT))
              .as("connection %d: %s", i, client).isTrue();
          assertThat(client.stdout()).as("connection %d", i)
              .containsPattern("(?m)^SASL PLAIN").containsPattern("(?m)^USER");
          int before = client.stdout().split("\\+OK", -1).length;
          client.send("QUIT");
          assertThat(client.await(t -> t.stdout().split("\\+OK", -1).length > before, SHORT))
              .as("connection %d: %s", i, client).isTrue();
        }
        client.finish(SHORT);
      }
    }
  }
}
