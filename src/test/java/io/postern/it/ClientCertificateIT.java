package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.ClientCertificateConfig;
import io.postern.config.ClientCertificateConfig.Mode;
import io.postern.config.ClientCertificateConfig.UserMatch;
import io.postern.config.ListenerConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsConfig;
import io.postern.config.TlsMode;
import io.postern.testing.FakeAuthService;
import io.postern.testing.FakeAuthService.Reply;
import io.postern.testing.LogCapture;
import io.postern.testing.OpensslCa;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.OpensslTool;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.postern.testing.SClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Client certificates end to end: real {@code openssl s_client} and curl present certificates
 * from a CA made with openssl to Postern (both TLS engines), whose http auth source receives
 * nginx's Auth-SSL-* headers, and which logs in at a real Dovecot, with a password or with SASL
 * EXTERNAL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientCertificateIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration SESSION_WAIT = Duration.ofSeconds(10);
  private static final String ALICE_PW = "alice-pw";
  private static final String BOB_PW = "bob-pw";
  private static final List<TlsConfig.Engine> ENGINES =
      List.of(TlsConfig.Engine.OPENSSL, TlsConfig.Engine.JDK);

  @TempDir
  static Path dir;

  private DovecotServer dovecot;
  private FakeAuthService service;
  private final Map<TlsConfig.Engine, PosternFixture> posterns =
      new EnumMap<>(TlsConfig.Engine.class);
  private OpensslCa ca;
  private OpensslCertificates.Pair alice;
  private OpensslCertificates.Pair stranger;
  /** Issued by the CA, then revoked: on its CRL, which every listener but imaps-reloaded has. */
  private OpensslCertificates.Pair revoked;
  private Path crl;
  /** The CA file of listener imaps-reloaded, which a test rewrites. */
  private Path reloadedCa;
  private LogCapture logs;

  @BeforeAll
  void start() throws Exception {
    RealParts.require("openssl");
    RealParts.require("curl");
    ca = OpensslCa.create(dir.resolve("pki"), "clients-ca", "Clients CA");
    alice = ca.issue("alice", "/CN=alice/emailAddress=alice@example.org", "1A2B3C");
    // Says CN=alice too, but no CA of Postern's issued it.
    stranger = OpensslCertificates.selfSignedEc(dir.resolve("pki"), "stranger", "alice");
    revoked = ca.issue("revoked", "/CN=alice/emailAddress=alice@example.org", "0BAD");
    crl = ca.crl("clients-crl", java.time.Instant.now().minus(Duration.ofDays(1)),
        java.time.Instant.now().plus(Duration.ofDays(30)), "0BAD");
    dovecot = DovecotServer.start(dir.resolve("dovecot"), Map.of("alice", ALICE_PW,
        "bob", BOB_PW));
    dovecot.deliver("alice", ("From: a@example.net\r\nTo: alice@example.net\r\nSubject: for"
        + " alice\r\n\r\nhello\r\n").getBytes(StandardCharsets.US_ASCII));
    reloadedCa = java.nio.file.Files.copy(ca.cert(), dir.resolve("pki/reloaded-ca.pem"));
    service = FakeAuthService.start(this::answer);
    logs = LogCapture.start();
    for (TlsConfig.Engine engine : ENGINES) {
      posterns.put(engine, PosternFixture.builder(dir.resolve("postern-" + engine))
          .engine(engine)
          .backend(dovecot.imapPort(), dovecot.pop3Port())
          .httpAuth(List.of(service.url()), Duration.ofSeconds(5), Map.of())
          .listener(listener("imaps-required", Protocol.IMAP, TlsMode.IMPLICIT, Mode.REQUIRED))
          .listener(listener("imaps-optional", Protocol.IMAP, TlsMode.IMPLICIT, Mode.OPTIONAL))
          .listener(listener("imap-required", Protocol.IMAP, TlsMode.STARTTLS, Mode.REQUIRED))
          .listener(listener("pop3s-required", Protocol.POP3, TlsMode.IMPLICIT, Mode.REQUIRED))
          .listener(new ListenerConfig("imaps-reloaded", Protocol.IMAP, "127.0.0.1", 0,
              TlsMode.IMPLICIT, false, null, new ClientCertificateConfig(Mode.REQUIRED,
                  reloadedCa, UserMatch.CN)))
          .start());
    }
  }

  private ListenerConfig listener(String name, Protocol protocol, TlsMode tls, Mode mode) {
    return new ListenerConfig(name, protocol, "127.0.0.1", 0, tls, false, null,
        new ClientCertificateConfig(mode, ca.cert(), UserMatch.CN, crl));
  }

  /** The service: alice and bob by password, and alice by certificate (EXTERNAL). */
  private Reply answer(FakeAuthService.Request request) {
    String user = request.user();
    int port = "pop3".equals(request.header("Auth-Protocol")) ? dovecot.pop3Port()
        : dovecot.imapPort();
    if ("external".equals(request.header("Auth-Method"))) {
      // As an nginx auth script would: the verified certificate's subject names the user.
      return "SUCCESS".equals(request.header("Auth-SSL-Verify"))
          && request.header("Auth-SSL-Subject").endsWith("CN=" + user) && user.equals("alice")
          ? Reply.ok("127.0.0.1", port).with("Auth-Pass", ALICE_PW)
          : Reply.failure("certificate not accepted");
    }
    String password = request.header("Auth-Pass");
    if ("alice".equals(user) && ALICE_PW.equals(password)
        || "bob".equals(user) && BOB_PW.equals(password)) {
      return Reply.ok("127.0.0.1", port);
    }
    return Reply.failure("Invalid login or password");
  }

  @AfterAll
  void stop() throws Exception {
    if (logs != null) {
      logs.stop();
    }
    for (PosternFixture postern : posterns.values()) {
      postern.close();
    }
    if (service != null) {
      service.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
  }

  // ---- The handshakes, with openssl s_client, on both engines.

  @ParameterizedTest
  @EnumSource(names = {"OPENSSL", "JDK"})
  void requiredShouldServeOnlyClientsWithACertificateOfTheCa(TlsConfig.Engine engine)
      throws Exception {
    PosternFixture postern = posterns.get(engine);
    for (String listener : List.of("imaps-required", "imap-required")) {
      String starttls = listener.startsWith("imaps") ? null : "imap";
      SClient.Target target = new SClient.Target(listener, postern.port(listener), starttls);
      assertThat(session(target, certificate(alice)).served()).as(listener).isTrue();
      Session without = session(target, List.of());
      assertThat(without.served()).as("%s without a certificate: %s", listener, without)
          .isFalse();
      Session untrusted = session(target, certificate(stranger));
      assertThat(untrusted.served()).as("%s with an untrusted one: %s", listener, untrusted)
          .isFalse();
      // The CA issued it, so the handshake passes; the session's check finds it on the CRL.
      Session revokedOne = session(target, certificate(revoked));
      assertThat(revokedOne.served()).as("%s with a revoked one: %s", listener, revokedOne)
          .isFalse();
      assertThat(revokedOne.transcript()).contains("* BYE SSL certificate error.");
    }
    SClient.Target pop3 = new SClient.Target("pop3s-required", postern.port("pop3s-required"),
        null);
    assertThat(session(pop3, certificate(alice)).served()).isTrue();
    assertThat(session(pop3, List.of()).served()).isFalse();
  }

  @ParameterizedTest
  @EnumSource(names = {"OPENSSL", "JDK"})
  void optionalShouldServeClientsWithoutButRefuseAnUntrustedOne(TlsConfig.Engine engine)
      throws Exception {
    PosternFixture postern = posterns.get(engine);
    SClient.Target target = new SClient.Target("imaps-optional",
        postern.port("imaps-optional"), null);
    Session with = session(target, certificate(alice));
    assertThat(with.served()).isTrue();
    // A verified certificate that maps to a user: EXTERNAL is offered, and only then.
    assertThat(with.transcript()).contains("AUTH=EXTERNAL");
    Session without = session(target, List.of());
    assertThat(without.served()).isTrue();
    assertThat(without.transcript()).contains("AUTH=PLAIN").doesNotContain("AUTH=EXTERNAL");
    // As nginx's ssl_verify_client optional: a certificate that is sent must verify.
    assertThat(session(target, certificate(stranger)).served()).isFalse();
    Session revokedOne = session(target, certificate(revoked));
    assertThat(revokedOne.served()).as("a revoked one: %s", revokedOne).isFalse();
    assertThat(revokedOne.transcript()).contains("* BYE SSL certificate error.");
    assertThat(String.join("\n", logs.lines())).contains("FAILED:certificate revoked");
    // A listener without client certificates asks for none: s_client sends none, all is well.
    Session none = session(new SClient.Target("imaps", postern.port("imaps"), null),
        certificate(alice));
    assertThat(none.served()).isTrue();
    assertThat(none.transcript()).doesNotContain("AUTH=EXTERNAL");
  }

  // ---- Logins with curl: the auth service's headers, the user match, EXTERNAL.

  @Test
  void theAuthServiceShouldGetTheCertificateAsNginxDescribesIt() throws Exception {
    PosternFixture postern = posterns.get(TlsConfig.Engine.OPENSSL);
    service.clear();
    ProcessResult fetched = curl(postern, "imaps-required", certificate(alice), "-u",
        "alice:" + ALICE_PW);
    assertThat(fetched.stdout()).as("%s", fetched).contains("Subject: for alice");
    FakeAuthService.Request asked = service.requestsFor("alice").get(0);
    assertThat(asked.header("Auth-SSL")).isEqualTo("on");
    assertThat(asked.header("Auth-SSL-Verify")).isEqualTo("SUCCESS");
    assertThat(asked.header("Auth-SSL-Subject")).isEqualTo(after("subject=",
        OpensslCa.x509(alice.cert(), "-subject", "-nameopt", "RFC2253")))
        .isEqualTo("emailAddress=alice@example.org,CN=alice");
    assertThat(asked.header("Auth-SSL-Issuer")).isEqualTo("CN=Clients CA");
    assertThat(asked.header("Auth-SSL-Serial")).isEqualTo("1A2B3C");
    assertThat(asked.header("Auth-SSL-Fingerprint")).isEqualTo(after("SHA1 FINGERPRINT=",
        OpensslCa.x509(alice.cert(), "-fingerprint", "-sha1").toUpperCase(Locale.ROOT))
        .replace(":", "").toLowerCase(Locale.ROOT));

    // Optional, and no certificate sent: nginx's NONE, and nothing else.
    service.clear();
    ProcessResult plain = curl(postern, "imaps-optional", List.of(), "-u", "alice:" + ALICE_PW);
    assertThat(plain.stdout()).as("%s", plain).contains("Subject: for alice");
    FakeAuthService.Request none = service.requestsFor("alice").get(0);
    assertThat(none.header("Auth-SSL-Verify")).isEqualTo("NONE");
    assertThat(none.header("Auth-SSL-Subject")).isNull();
    // A listener that asks for none sends no certificate headers at all (as nginx).
    service.clear();
    curl(postern, "imaps", List.of(), "-u", "alice:" + ALICE_PW);
    assertThat(service.requestsFor("alice").get(0).header("Auth-SSL-Verify")).isNull();
  }

  @Test
  void aCertificateShouldOnlyLogInItsOwnUser() throws Exception {
    PosternFixture postern = posterns.get(TlsConfig.Engine.OPENSSL);
    service.clear();
    // Bob's right password, with alice's certificate: refused before the service is asked.
    ProcessResult bob = curl(postern, "imaps-required", certificate(alice), "-u",
        "bob:" + BOB_PW);
    assertThat(bob.exitCode()).as("%s", bob).isEqualTo(67);
    assertThat(service.requestsFor("bob")).isEmpty();
    Awaitility.await().atMost(SESSION_WAIT).until(() -> logs.lines().stream().anyMatch(l ->
        l.contains("user=bob") && l.contains("client certificate CN 'alice' is not the user")));
    // Without a certificate, on the optional listener, bob logs in with his password.
    ProcessResult bobPlain = curl(postern, "imaps-optional", List.of(), "-u", "bob:" + BOB_PW,
        "-X", "NOOP");
    assertThat(bobPlain.exitCode()).as("%s", bobPlain).isZero();
  }

  @ParameterizedTest
  @EnumSource(names = {"OPENSSL", "JDK"})
  void externalShouldLogInTheCertificatesUserAtDovecot(TlsConfig.Engine engine)
      throws Exception {
    PosternFixture postern = posterns.get(engine);
    service.clear();
    ProcessResult imap = curl(postern, "imaps-required", certificate(alice), "--login-options",
        "AUTH=EXTERNAL", "-u", "alice:");
    assertThat(imap.stdout()).as("%s", imap).contains("Subject: for alice");
    FakeAuthService.Request asked = service.requestsFor("alice").get(0);
    assertThat(asked.header("Auth-Method")).isEqualTo("external");
    assertThat(asked.header("Auth-Pass")).isEmpty();

    ProcessResult pop3 = Clients.curl(CLIENT_TIMEOUT, "--cacert",
        postern.tls().certPath().toString(), "--cert", alice.cert().toString(), "--key",
        alice.key().toString(), "--login-options", "AUTH=EXTERNAL", "-u", "alice:",
        "pop3s://localhost:" + postern.port("pop3s-required") + "/1");
    assertThat(pop3.stdout()).as("%s", pop3).contains("Subject: for alice");

    // Asking to be someone else than the certificate's user is refused, service unasked.
    ProcessResult other = curl(postern, "imaps-required", certificate(alice),
        "--login-options", "AUTH=EXTERNAL", "-u", "bob:");
    assertThat(other.exitCode()).as("%s", other).isEqualTo(67);
    assertThat(service.requestsFor("bob")).isEmpty();
  }

  /**
   * A resumed TLS session (a ticket) keeps its certificate: served as before, EXTERNAL still
   * offered. (Without -brief: s_client says New or Reused.)
   */
  @ParameterizedTest
  @EnumSource(names = {"OPENSSL", "JDK"})
  void aResumedSessionShouldKeepItsCertificate(TlsConfig.Engine engine) throws Exception {
    int port = posterns.get(engine).port("imaps-required");
    Path saved = dir.resolve("session-" + engine + ".pem");
    assertThat(resume(port, "-sess_out", saved)).contains("New, TLSv1.3");
    String resumed = resume(port, "-sess_in", saved);
    assertThat(resumed).contains("Reused, TLSv1.3").contains("a OK")
        .contains("AUTH=EXTERNAL");
  }

  private String resume(int port, String option, Path file) throws Exception {
    List<String> args = new ArrayList<>(List.of("s_client", "-connect", "127.0.0.1:" + port,
        "-crlf", "-tls1_3", option, file.toString()));
    args.addAll(certificate(alice));
    try (OpensslTool client = OpensslTool.start(args)) {
      // Tickets come before the greeting: once it is there, -sess_out has one.
      client.await(t -> t.stdout().contains("* OK") || !t.alive(), SESSION_WAIT);
      if (client.alive()) {
        client.send("a CAPABILITY");
        client.await(t -> t.stdout().contains("a OK") || !t.alive(), SESSION_WAIT);
      }
      return client.stdout() + "\n--- stderr:\n" + client.stderr();
    }
  }

  /** The CA file is read again with the configuration (SIGHUP, POST /api/reload). */
  @Test
  void aConfigurationReloadShouldPutTheNewCaFileInUse() throws Exception {
    PosternFixture postern = posterns.get(TlsConfig.Engine.JDK);
    SClient.Target target = new SClient.Target("imaps-reloaded",
        postern.port("imaps-reloaded"), null);
    assertThat(session(target, certificate(alice)).served()).isTrue();
    OpensslCa next = OpensslCa.create(dir.resolve("pki2"), "next-ca", "Next Clients CA");
    OpensslCertificates.Pair carol = next.issue("carol", "/CN=carol", "05");
    assertThat(session(target, certificate(carol)).served()).isFalse();

    java.nio.file.Files.copy(next.cert(), reloadedCa,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    List<String> changes = postern.server().reload(io.postern.PosternServer.load(
        postern.vertx(), postern.config(), postern.server().resources().authenticator()))
        .await();
    assertThat(changes).contains("TLS certificates loaded");
    assertThat(session(target, certificate(carol)).served()).isTrue();
    assertThat(session(target, certificate(alice)).served()).isFalse();
  }

  // ---- Helpers.

  private record Session(boolean served, String transcript) {}

  /**
   * An s_client session: the greeting (implicit TLS) and a CAPABILITY (or CAPA) answered means
   * served; s_client exiting first (the handshake or the session refused) means not.
   */
  private static Session session(SClient.Target target, List<String> certificate)
      throws Exception {
    boolean pop3 = target.name().startsWith("pop3");
    try (OpensslTool client = SClient.start(target, certificate)) {
      if (target.starttls() == null) {
        client.await(t -> t.stdout().contains(pop3 ? "+OK" : "* OK") || !t.alive(),
            SESSION_WAIT);
      } else {
        client.await(t -> t.stderr().contains("CONNECTION ESTABLISHED") || !t.alive(),
            SESSION_WAIT);
      }
      if (client.alive()) {
        client.send(pop3 ? "CAPA" : "a CAPABILITY");
      }
      String done = pop3 ? "\n." : "a OK";
      client.await(t -> t.stdout().contains(done) || !t.alive(), SESSION_WAIT);
      boolean served = client.stdout().contains(done);
      return new Session(served, client.stdout() + "\n--- stderr:\n" + client.stderr());
    }
  }

  private static List<String> certificate(OpensslCertificates.Pair pair) {
    return List.of("-cert", pair.cert().toString(), "-key", pair.key().toString());
  }

  /** curl fetching alice's first message from {@code listener}, with s_client's cert args. */
  private static ProcessResult curl(PosternFixture postern, String listener,
      List<String> certificate, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("--cacert",
        postern.tls().certPath().toString()));
    for (int i = 0; i < certificate.size(); i += 2) {
      command.add(certificate.get(i).equals("-cert") ? "--cert" : "--key");
      command.add(certificate.get(i + 1));
    }
    command.addAll(List.of(args));
    command.add("imaps://localhost:" + postern.port(listener) + "/INBOX;UID=1");
    return Clients.curl(CLIENT_TIMEOUT, command.toArray(String[]::new));
  }

  private static String after(String prefix, String line) {
    assertThat(line).startsWith(prefix);
    return line.substring(prefix.length());
  }
}
