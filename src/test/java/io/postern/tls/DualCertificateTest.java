package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsConfig.Engine;
import io.postern.it.RealParts;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.SClient;
import io.postern.testing.SClient.Handshake;
import io.postern.testing.SClient.Target;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An RSA and an ECDSA P-256 certificate for the same name, listed together in
 * {@code tls.certificates}: real OpenSSL clients get the ECDSA one when they offer ECDSA
 * signatures and the RSA one otherwise, on both engines, implicit TLS and STARTTLS, TLS 1.2 and
 * 1.3; a third certificate for another name is still picked by SNI.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DualCertificateTest {

  private static final String OTHER = "mail.example.org";

  @TempDir
  static Path dir;

  private OpensslCertificates.Pair rsa;
  private OpensslCertificates.Pair ec;
  private OpensslCertificates.Pair other;
  private final Map<Engine, PosternFixture> fixtures = new EnumMap<>(Engine.class);

  @BeforeAll
  void certificates() throws Exception {
    RealParts.require("openssl");
    rsa = OpensslCertificates.selfSigned(dir, "rsa", "localhost", "localhost");
    ec = OpensslCertificates.selfSignedEc(dir, "ec", "localhost", "localhost");
    other = OpensslCertificates.selfSigned(dir, "other", OTHER, OTHER);
  }

  @AfterAll
  void stop() throws Exception {
    for (PosternFixture f : fixtures.values()) {
      f.close();
    }
  }

  private PosternFixture postern(Engine engine) throws Exception {
    if (engine == Engine.OPENSSL && !OpenSSLEngineOptions.isAvailable()) {
      RealParts.missing("netty-tcnative (OpenSSL engine) cannot load on this platform");
    }
    PosternFixture f = fixtures.get(engine);
    if (f == null) {
      // RSA first: the ECDSA pair must be chosen for what the client offers, not by position.
      f = PosternFixture.builder(dir.resolve("postern-" + engine))
          .engine(engine)
          .certificate(rsa.cert(), rsa.key())
          .certificate(ec.cert(), ec.key())
          .certificate(other.cert(), other.key())
          .start();
      fixtures.put(engine, f);
    }
    return f;
  }

  static Stream<Arguments> everyPathAndVersion() {
    List<Arguments> out = new ArrayList<>();
    for (Engine engine : List.of(Engine.OPENSSL, Engine.JDK)) {
      for (String listener : List.of("imaps", "imap", "pop3s", "pop3")) {
        for (String version : List.of("-tls1_3", "-tls1_2")) {
          out.add(Arguments.of(engine, listener, version));
        }
      }
    }
    return out.stream();
  }

  private Handshake handshake(Engine engine, String listener, String version, String... extra)
      throws Exception {
    String starttls = listener.endsWith("s") ? null : listener;
    Target target = new Target(listener, postern(engine).port(listener), starttls);
    List<String> args = new ArrayList<>(List.of(version));
    args.addAll(List.of(extra));
    Handshake h = SClient.handshake(target, args.toArray(String[]::new));
    assertThat(h.established()).as("%s", h).isTrue();
    return h;
  }

  /** s_client -brief's "Signature type: ECDSA" (or RSA-PSS, RSA). */
  private static String signature(Handshake h) {
    Matcher m = Pattern.compile("(?m)^Signature type: (\\S+)").matcher(h.stderr());
    return m.find() ? m.group(1) : "none in: " + h;
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("everyPathAndVersion")
  void aClientOfferingEcdsaGetsTheEcdsaCertificate(Engine engine, String listener,
      String version) throws Exception {
    assertThat(signature(handshake(engine, listener, version, "-sigalgs", "ECDSA+SHA256")))
        .isEqualTo("ECDSA");
    // Even when it prefers RSA: ECDSA costs the server less.
    assertThat(signature(handshake(engine, listener, version, "-sigalgs",
        "RSA-PSS+SHA256:ECDSA+SHA256"))).isEqualTo("ECDSA");
    // OpenSSL's defaults (curl, Python, s_client) offer ECDSA.
    assertThat(signature(handshake(engine, listener, version))).isEqualTo("ECDSA");
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("everyPathAndVersion")
  void aClientWithoutEcdsaGetsTheRsaCertificate(Engine engine, String listener, String version)
      throws Exception {
    assertThat(signature(handshake(engine, listener, version, "-sigalgs",
        "RSA-PSS+SHA256:RSA+SHA256"))).startsWith("RSA");
  }

  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("everyPathAndVersion")
  void sniStillPicksTheCertificateOfAnotherName(Engine engine, String listener, String version)
      throws Exception {
    Handshake h = handshake(engine, listener, version, "-servername", OTHER);
    assertThat(h.peerCertificate()).contains("CN = " + OTHER);
    assertThat(signature(h)).startsWith("RSA");
  }
}
