package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.auth.ClientCertificate;
import io.postern.config.ClientCertificateConfig.UserMatch;
import java.util.List;
import org.junit.jupiter.api.Test;

/** client-certificate-user: which user a certificate names, and who may log in with it. */
class CertificateUserTest {

  private static ClientCertificate verified(String cn, String... emails) {
    return new ClientCertificate("SUCCESS", "CN=" + cn, "CN=CA", "01", "ab", cn,
        List.of(emails));
  }

  @Test
  void theCommonNameOrTheEmailShouldNameTheUser() {
    ClientCertificate alice = verified("alice", "alice@example.org", "a.smith@example.org");
    assertThat(CertificateUser.of(UserMatch.CN, alice)).isEqualTo("alice");
    assertThat(CertificateUser.of(UserMatch.EMAIL, alice)).isEqualTo("alice@example.org");
    assertThat(CertificateUser.of(UserMatch.NONE, alice)).isNull();
    assertThat(CertificateUser.mismatch(UserMatch.CN, alice, "alice")).isNull();
    assertThat(CertificateUser.mismatch(UserMatch.EMAIL, alice, "A.Smith@Example.org")).isNull();
    assertThat(CertificateUser.mismatch(UserMatch.CN, alice, "bob"))
        .isEqualTo("client certificate CN 'alice' is not the user");
    assertThat(CertificateUser.mismatch(UserMatch.EMAIL, alice, "alice"))
        .startsWith("client certificate email [alice@example.org, a.smith@example.org] is not");
    assertThat(CertificateUser.mismatch(UserMatch.NONE, alice, "bob")).isNull();
  }

  @Test
  void aCertificateWithoutTheFieldShouldNameNobodyAndLetNobodyIn() {
    // No fallback to the typed name (Dovecot's CVE-2019-3814).
    ClientCertificate noCn = new ClientCertificate("SUCCESS", "O=Example", "CN=CA", "01", "ab",
        null, List.of());
    assertThat(CertificateUser.of(UserMatch.CN, noCn)).isNull();
    assertThat(CertificateUser.mismatch(UserMatch.CN, noCn, "alice"))
        .isEqualTo("client certificate O=Example has no CN to match the user");
    assertThat(CertificateUser.mismatch(UserMatch.EMAIL, noCn, "alice"))
        .contains("has no email address");
  }

  @Test
  void anUnverifiedCertificateShouldBeRefusedAndNoCertificateNotHeldToOne() {
    ClientCertificate failed = new ClientCertificate("FAILED:certificate has expired",
        "CN=alice", "CN=CA", "01", "ab", null, List.of());
    assertThat(CertificateUser.of(UserMatch.CN, failed)).isNull();
    assertThat(CertificateUser.mismatch(UserMatch.CN, failed, "alice"))
        .isEqualTo("client certificate did not verify (FAILED:certificate has expired)");
    // client-certificates: optional, and none sent: password logins as usual.
    assertThat(CertificateUser.mismatch(UserMatch.CN, ClientCertificate.NONE, "alice")).isNull();
    assertThat(CertificateUser.mismatch(UserMatch.CN, null, "alice")).isNull();
  }
}
