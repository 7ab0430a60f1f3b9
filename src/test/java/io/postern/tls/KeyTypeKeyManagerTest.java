package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.CertificateFiles;
import io.postern.testing.OpensslCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which certificate a handshake gets, as each engine asks: OpenSSL asks for EC then RSA (the
 * server's suite order) on every version; the JDK asks for TLS 1.3 in the client's signature
 * scheme order. Aliases are the pairs' indexes in {@code tls.certificates}.
 */
class KeyTypeKeyManagerTest {

  private static final List<String> ECDSA = List.of("SHA256withECDSA");
  private static final List<String> RSA = List.of("SHA256withRSAandMGF1", "SHA256withRSA");
  private static final List<String> RSA_THEN_ECDSA =
      List.of("SHA256withRSAandMGF1", "SHA256withECDSA");

  @TempDir
  static Path dir;

  /** 0 RSA localhost, 1 EC localhost, 2 RSA mail.example.org, 3 EC *.example.net. */
  private static KeyTypeKeyManager mixed;
  /** 0 EC localhost only: a configuration of one ECDSA certificate. */
  private static KeyTypeKeyManager ecOnly;

  @BeforeAll
  static void certificates() throws Exception {
    var rsa = OpensslCertificates.selfSigned(dir, "rsa", "localhost", "localhost");
    var ec = OpensslCertificates.selfSignedEc(dir, "ec", "localhost", "localhost");
    var mail = OpensslCertificates.selfSigned(dir, "mail", "mail.example.org",
        "mail.example.org");
    var wild = OpensslCertificates.selfSignedEc(dir, "wild", "example.net", "*.example.net");
    mixed = manager(rsa, ec, mail, wild);
    ecOnly = manager(ec);
  }

  private static KeyTypeKeyManager manager(OpensslCertificates.Pair... files) throws Exception {
    List<CertificatePair> pairs = new ArrayList<>();
    List<PrivateKey> keys = new ArrayList<>();
    for (OpensslCertificates.Pair f : files) {
      pairs.add(CertificatePair.read(new CertificateFiles(f.cert(), f.key())));
      String pem = Files.readString(f.key()).replaceAll("-----[A-Z ]+-----|\\s", "");
      byte[] der = Base64.getDecoder().decode(pem);
      String algorithm = f.cert().getFileName().toString().startsWith("rsa")
          || f.cert().getFileName().toString().startsWith("mail") ? "RSA" : "EC";
      keys.add(KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der)));
    }
    return new KeyTypeKeyManager(pairs, keys);
  }

  @Test
  void openSslAskingEcFirstGivesTheEcdsaCertificateToAClientThatOffersEcdsa() {
    for (String version : List.of("TLSv1.3", "TLSv1.2")) {
      assertThat(mixed.choose("EC", null, ECDSA, version)).isEqualTo("1");
      assertThat(mixed.choose("EC", null, RSA_THEN_ECDSA, version)).isEqualTo("1");
    }
  }

  @Test
  void aClientWithoutEcdsaIsRefusedTheEcKeyAndGetsRsa() {
    for (String version : List.of("TLSv1.3", "TLSv1.2")) {
      assertThat(mixed.choose("EC", null, RSA, version)).isNull();
      assertThat(mixed.choose("RSA", null, RSA, version)).isEqualTo("0");
    }
    // Unknown algorithms (a TLS 1.2 client without signature_algorithms): RSA, which always works.
    assertThat(mixed.choose("EC", null, List.of(), "TLSv1.2")).isNull();
    assertThat(mixed.choose("RSA", null, List.of(), "TLSv1.2")).isEqualTo("0");
  }

  @Test
  void theJdkAskingRsaFirstForTls13IsSentOnToEcWhenTheClientCanTakeIt() {
    assertThat(mixed.choose("RSA", null, RSA_THEN_ECDSA, "TLSv1.3")).isNull();
    assertThat(mixed.choose("EC", null, RSA_THEN_ECDSA, "TLSv1.3")).isEqualTo("1");
    // TLS 1.2 asks by suite: an RSA suite may be the only one in common, so RSA is not refused.
    assertThat(mixed.choose("RSA", null, RSA_THEN_ECDSA, "TLSv1.2")).isEqualTo("0");
  }

  @Test
  void sniPicksTheGroupAndTheKeyTypeWithinIt() {
    // mail.example.org has RSA only: an ECDSA-capable client gets it anyway.
    assertThat(mixed.choose("EC", "mail.example.org", ECDSA, "TLSv1.3")).isNull();
    assertThat(mixed.choose("RSA", "MAIL.example.org", ECDSA, "TLSv1.3")).isEqualTo("2");
    // A wildcard (EC only) for one label under example.net.
    assertThat(mixed.choose("EC", "imap.example.net", ECDSA, "TLSv1.3")).isEqualTo("3");
    assertThat(mixed.choose("EC", "a.b.example.net", ECDSA, "TLSv1.3")).isEqualTo("1");
    // An unknown name and no name: the first pair's group (RSA and EC for localhost).
    assertThat(mixed.choose("EC", "unknown.example", ECDSA, "TLSv1.3")).isEqualTo("1");
    assertThat(mixed.choose("RSA", "unknown.example", RSA, "TLSv1.3")).isEqualTo("0");
    assertThat(mixed.choose("EC", null, ECDSA, "TLSv1.3")).isEqualTo("1");
  }

  @Test
  void aSingleKeyTypeIsServedAsBeforeWhateverTheClientOffers() {
    assertThat(ecOnly.choose("EC", null, RSA, "TLSv1.3")).isEqualTo("0");
    assertThat(ecOnly.choose("RSA", null, RSA, "TLSv1.3")).isNull();
    assertThat(ecOnly.getCertificateChain("0")).hasSize(1);
    assertThat(ecOnly.getPrivateKey("0").getAlgorithm()).isEqualTo("EC");
  }

  @Test
  void ecdsaIsRecognisedInEitherEnginesSpelling() {
    assertThat(KeyTypeKeyManager.verifiesEcdsa(List.of("SHA256withECDSA"), "SHA256")).isTrue();
    assertThat(KeyTypeKeyManager.verifiesEcdsa(List.of("ecdsa_secp256r1_sha256"), "SHA256"))
        .isTrue();
    // A P-256 key cannot sign for a client that offers ECDSA with SHA-384 only (TLS 1.3).
    assertThat(KeyTypeKeyManager.verifiesEcdsa(List.of("SHA384withECDSA"), "SHA256")).isFalse();
    assertThat(KeyTypeKeyManager.verifiesEcdsa(List.of("Ed25519", "SHA256withRSA"), "SHA256"))
        .isFalse();
  }
}
