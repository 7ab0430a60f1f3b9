package io.postern.sasl;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** EXTERNAL (RFC 4422 Appendix A): the message is only the authorization identity. */
class SaslExternalTest {

  private static byte[] b64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8))
        .getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void externalShouldBeNamedAndCarryTheAuthorizationIdentityWithoutPassword() {
    assertThat(SaslMechanism.named("external")).isInstanceOf(SaslExternal.class);
    SaslStep step = new SaslExternal().start(b64("alice"));
    SaslStep.Done done = (SaslStep.Done) step;
    assertThat(done.credentials().user()).isEqualTo("alice");
    assertThat(done.credentials().password().isEmpty()).isTrue();
  }

  @Test
  void anEmptyIdentityShouldMeanTheCertificatesUser() {
    // "=" is SASL-IR's empty response; without one the server asks with an empty challenge.
    SaslStep.Done done = (SaslStep.Done) new SaslExternal().start(new byte[0]);
    assertThat(done.credentials().user()).isEmpty();
    SaslExternal waiting = new SaslExternal();
    assertThat(waiting.start(null)).isEqualTo(new SaslStep.Challenge(""));
    assertThat(((SaslStep.Done) waiting.next(new byte[0])).credentials().user()).isEmpty();
  }

  @Test
  void badBase64AndNulShouldBeMalformed() {
    assertThat(new SaslExternal().start("not base64!".getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(SaslStep.Malformed.class);
    assertThat(new SaslExternal().start(b64("alice\0bob")))
        .isEqualTo(new SaslStep.Malformed("Invalid EXTERNAL message."));
  }
}
