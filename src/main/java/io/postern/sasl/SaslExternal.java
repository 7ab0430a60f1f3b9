package io.postern.sasl;

import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;

/**
 * EXTERNAL (RFC 4422 Appendix A): the TLS client certificate authenticates; the one message is
 * the authorization identity, empty to act as the certificate's own user. The result carries it
 * as the user name with no password; the login path maps the certificate to its user and
 * refuses an identity other than that one.
 */
public final class SaslExternal implements SaslMechanism {

  @Override
  public SaslStep next(byte[] response) {
    byte[] decoded = SaslMechanism.decode(response);
    if (decoded == null) {
      return new SaslStep.Malformed("Invalid base64 data.");
    }
    for (byte b : decoded) {
      if (b == 0) {
        return new SaslStep.Malformed("Invalid EXTERNAL message.");
      }
    }
    return new SaslStep.Done(
        new Credentials(new String(decoded, StandardCharsets.UTF_8), Secret.of(new byte[0])));
  }
}
