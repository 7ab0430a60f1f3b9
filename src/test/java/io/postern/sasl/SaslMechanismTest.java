package io.postern.sasl;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.credentials.Credentials;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SaslMechanismTest {

  private static byte[] b64(String s) {
    return Base64.getEncoder().encode(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void plainShouldYieldCredentialsFromInitialResponse() {
    SaslStep step = SaslMechanism.named("plain").start(b64("\0bob\0s3cret"));
    Credentials c = ((SaslStep.Done) step).credentials();
    assertThat(c.user()).isEqualTo("bob");
    assertThat(c.password().text()).isEqualTo("s3cret");
  }

  @Test
  void plainShouldChallengeWithoutInitialResponse() {
    SaslMechanism plain = SaslMechanism.named("PLAIN");
    assertThat(plain.start(null)).isEqualTo(new SaslStep.Challenge(""));
    assertThat(plain.next(b64("bob\0bob\0pw"))).isInstanceOf(SaslStep.Done.class);
  }

  @Test
  void plainEncodeShouldCarryAnAuthorizationIdentityForMasterLogins() {
    String encoded = SaslPlain.encode("alice", "postern-master",
        io.postern.credentials.Secret.of("pässword"));
    assertThat(new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8))
        .isEqualTo("alice\0postern-master\0pässword");
    assertThat(new String(Base64.getDecoder().decode(SaslPlain.encode("bob",
        io.postern.credentials.Secret.of("pw"))), StandardCharsets.UTF_8)).isEqualTo("\0bob\0pw");
  }

  @Test
  void plainShouldNeverLetOneUserActAsAnother() {
    assertThat(SaslMechanism.named("PLAIN").start(b64("victim\0attacker\0attackerpw")))
        .isInstanceOf(SaslStep.Malformed.class);
  }

  @Test
  void plainShouldRefuseMalformedMessages() {
    for (String bad : new String[] {"bob\0pw", "\0\0", "\0\0pw", "a\0b\0c\0d", ""}) {
      assertThat(SaslMechanism.named("PLAIN").start(b64(bad))).as(bad.replace('\0', '|'))
          .isInstanceOf(SaslStep.Malformed.class);
    }
  }

  @Test
  void decodeShouldRefuseInvalidBase64() {
    for (String bad : new String[] {"AG!b", "AG=b=", "A", "AGJvYgBwdw==x"}) {
      assertThat(SaslMechanism.named("PLAIN").start(bad.getBytes(StandardCharsets.US_ASCII)))
          .as(bad).isInstanceOf(SaslStep.Malformed.class);
    }
  }

  @Test
  void loginShouldPromptForUserThenPassword() {
    SaslMechanism login = SaslMechanism.named("LOGIN");
    assertThat(login.start(null)).isEqualTo(new SaslStep.Challenge("VXNlcm5hbWU6"));
    assertThat(login.next(b64("bob"))).isEqualTo(new SaslStep.Challenge("UGFzc3dvcmQ6"));
    Credentials c = ((SaslStep.Done) login.next(b64("pw"))).credentials();
    assertThat(c.user()).isEqualTo("bob");
    assertThat(c.password().text()).isEqualTo("pw");
  }

  @Test
  void loginShouldTakeTheUserFromAnInitialResponse() {
    SaslMechanism login = SaslMechanism.named("LOGIN");
    assertThat(login.start(b64("bob"))).isEqualTo(new SaslStep.Challenge("UGFzc3dvcmQ6"));
  }

  @Test
  void namedShouldOfferOnlyPlainAndLogin() {
    assertThat(SaslMechanism.named("CRAM-MD5")).isNull();
    assertThat(SaslMechanism.named("GSSAPI")).isNull();
    // Names are ASCII: Unicode case mapping would take "pla\u0131n" (dotless i) for PLAIN.
    assertThat(SaslMechanism.named("pla\u0131n")).isNull();
    assertThat(SaslMechanism.named("LOG\u0131N")).isNull();
  }
}
