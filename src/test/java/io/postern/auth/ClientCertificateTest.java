package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.it.RealParts;
import io.postern.testing.OpensslCa;
import io.postern.testing.OpensslCertificates;
import io.postern.tls.ClientCa;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client certificate as nginx describes it to its auth service, checked against what the
 * openssl CLI prints for the same certificate (nginx prints with OpenSSL), and the verification
 * against a listener's CAs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientCertificateTest {

  @TempDir
  static Path dir;

  private OpensslCa ca;
  private OpensslCertificates.Pair alice;
  private OpensslCertificates.Pair tricky;
  private OpensslCertificates.Pair stranger;

  @BeforeAll
  void certificates() throws Exception {
    RealParts.require("openssl");
    ca = OpensslCa.create(dir, "clients-ca", "Test Clients CA");
    alice = ca.issue("alice", "/CN=alice/emailAddress=alice@example.org", "0ABC",
        "email:alice.smith@example.org");
    // RFC 2253 specials, a leading '#', non-ASCII letters and a CR that must not end a header.
    tricky = ca.issue("tricky", "/O=Smith, Jones+Co\\; \"Ltd\"/OU=#Z\u00fcrich <x>/CN=a\\\\b",
        "81FF");
    stranger = OpensslCertificates.selfSignedEc(dir, "stranger", "alice");
  }

  @Test
  void detailsShouldBeWhatOpensslPrintsAsNginxSendsThem() throws Exception {
    for (OpensslCertificates.Pair pair : List.of(alice, tricky)) {
      ClientCertificate c = ClientCertificate.of(read(pair.cert()), null);
      assertThat(c.verify()).isEqualTo("SUCCESS");
      assertThat(c.subject()).isEqualTo(strip(OpensslCa.x509(pair.cert(), "-subject",
          "-nameopt", "RFC2253"), "subject="));
      assertThat(c.issuer()).isEqualTo(strip(OpensslCa.x509(pair.cert(), "-issuer",
          "-nameopt", "RFC2253"), "issuer=")).isEqualTo("CN=Test Clients CA");
      assertThat(c.serial()).isEqualTo(strip(OpensslCa.x509(pair.cert(), "-serial"), "serial="));
      assertThat(c.fingerprint()).isEqualTo(strip(OpensslCa.x509(pair.cert(), "-fingerprint",
          "-sha1").toUpperCase(Locale.ROOT), "SHA1 FINGERPRINT=").replace(":", "")
          .toLowerCase(Locale.ROOT))
          .matches("[0-9a-f]{40}");
      assertThat(c.subject()).doesNotContain("\r", "\n").matches("[\\x20-\\x7e]+");
    }
    ClientCertificate a = ClientCertificate.of(read(alice.cert()), null);
    assertThat(a.subject()).isEqualTo("emailAddress=alice@example.org,CN=alice");
    assertThat(a.serial()).isEqualTo("0ABC");
    assertThat(a.commonName()).isEqualTo("alice");
    assertThat(a.emails()).containsExactly("alice@example.org", "alice.smith@example.org");
  }

  @Test
  void headersShouldFollowNginxAndBeAbsentWithoutCertificateRequest() throws Exception {
    ClientCertificate a = ClientCertificate.of(read(alice.cert()), null);
    Map<String, String> h = AuthHttpRequest.headers(request("PLAIN", a), Map.of());
    assertThat(h).containsEntry("Auth-Method", "plain").containsEntry("Auth-SSL", "on")
        .containsEntry("Auth-SSL-Verify", "SUCCESS")
        .containsEntry("Auth-SSL-Subject", "emailAddress=alice@example.org,CN=alice")
        .containsEntry("Auth-SSL-Issuer", "CN=Test Clients CA")
        .containsEntry("Auth-SSL-Serial", "0ABC")
        .containsEntry("Auth-SSL-Fingerprint", a.fingerprint());
    assertThat(AuthHttpRequest.headers(request("PLAIN", ClientCertificate.NONE), Map.of()))
        .containsEntry("Auth-SSL-Verify", "NONE").doesNotContainKey("Auth-SSL-Subject");
    assertThat(AuthHttpRequest.headers(request("PLAIN", null), Map.of()))
        .doesNotContainKeys("Auth-SSL-Verify", "Auth-SSL-Subject");
    Map<String, String> external = AuthHttpRequest.headers(request("EXTERNAL", a), Map.of());
    assertThat(external).containsEntry("Auth-Method", "external").containsEntry("Auth-Pass", "");
    assertThat(external.keySet().iterator().next()).isEqualTo("Auth-Method");
  }

  @Test
  void onlyTheListenersCasShouldVerifyAndAFailureNamesNobody() throws Exception {
    ClientCa trusted = ClientCa.load(ca.cert());
    assertThat(trusted.verify(chain(alice.cert()))).isNull();
    String why = trusted.verify(chain(stranger.cert()));
    assertThat(why).isEqualTo("unable to get local issuer certificate");
    ClientCertificate failed = ClientCertificate.of(read(stranger.cert()), why);
    assertThat(failed.verify()).isEqualTo("FAILED:unable to get local issuer certificate");
    assertThat(failed.verified()).isFalse();
    // The certificate says CN=alice, but it proves nothing.
    assertThat(failed.commonName()).isNull();
    assertThat(failed.emails()).isEmpty();
    assertThat(trusted.verify(new Certificate[0])).isEqualTo("no certificate");
  }

  @Test
  void aCertificateForServersOnlyShouldIdentifyNoClient() throws Exception {
    ClientCa trusted = ClientCa.load(ca.cert());
    OpensslCertificates.Pair server = ca.issueWith("mailserver", "/CN=alice", "0DEF",
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:mail.example.org\n");
    assertThat(trusted.verify(chain(server.cert()))).isEqualTo("unsupported certificate purpose");
    OpensslCertificates.Pair unlimited = ca.issueWith("unlimited", "/CN=alice", "0DF0", null);
    assertThat(trusted.verify(chain(unlimited.cert()))).isNull();
  }

  @Test
  void aCrlShouldRefuseTheCertificatesItRevokesAndAStaleOneAllOfTheCas() throws Exception {
    ClientCa trusted = ClientCa.load(ca.cert());
    OpensslCertificates.Pair revoked = ca.issue("revoked", "/CN=carol", "0BAD",
        "email:carol@example.org");
    ClientCa withCrl = trusted.withCrl(ca.crl("current", daysFromNow(-1), daysFromNow(30),
        "0BAD", "7777"));
    assertThat(withCrl.verify(chain(revoked.cert()))).isEqualTo("certificate revoked");
    assertThat(withCrl.verify(chain(alice.cert()))).isNull();
    assertThat(trusted.verify(chain(revoked.cert()))).as("no CRL, no revocation").isNull();
    assertThat(withCrl).isNotEqualTo(trusted).hasToString("client CA " + ca.cert() + ", CRL "
        + dir.resolve("current.pem"));
    // Past its next update: nothing of its CA can be trusted until a fresh one comes, as in
    // OpenSSL ("CRL has expired" there).
    ClientCa stale = trusted.withCrl(ca.crl("stale", daysFromNow(-10), daysFromNow(-9)));
    assertThat(stale.verify(chain(alice.cert()))).isEqualTo("unable to get certificate CRL");
  }

  @Test
  void aCrlFileShouldHoldCrlsOfTheCasOwn() throws Exception {
    ClientCa trusted = ClientCa.load(ca.cert());
    OpensslCa other = OpensslCa.create(dir.resolve("other"), "clients-ca", "Test Clients CA");
    Path foreign = other.crl("foreign", daysFromNow(-1), daysFromNow(30), "0ABC");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> trusted.withCrl(foreign))
        .hasMessage(foreign + ": the CRL of CN=Test Clients CA is not signed by a CA of "
            + ca.cert());
    Path empty = Files.writeString(dir.resolve("empty-crl.pem"), "nothing here\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> trusted.withCrl(empty))
        .hasMessageContaining(empty.toString());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> trusted.withCrl(
        dir.resolve("missing-crl.pem"))).hasMessageContaining("does not exist");
  }

  private static java.time.Instant daysFromNow(int days) {
    return java.time.Instant.now().plus(java.time.Duration.ofDays(days));
  }

  @Test
  void aCaFileShouldHoldCertificates() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.pem"), "nothing here\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ClientCa.load(empty))
        .hasMessageContaining("is not a PEM file of CA certificates");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ClientCa.load(
        dir.resolve("missing.pem"))).hasMessageContaining("does not exist");
  }

  private static AuthRequest request(String mechanism, ClientCertificate certificate) {
    return new AuthRequest(io.postern.config.Protocol.IMAP, mechanism,
        new io.postern.credentials.Credentials("alice",
            io.postern.credentials.Secret.of(mechanism.equals("EXTERNAL") ? "" : "pw")),
        "127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", 1, certificate);
  }

  private static String strip(String line, String prefix) {
    assertThat(line).startsWith(prefix);
    return line.substring(prefix.length());
  }

  static X509Certificate read(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static Certificate[] chain(Path pem) throws Exception {
    return new Certificate[] {read(pem)};
  }
}
