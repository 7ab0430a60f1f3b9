package io.postern.sasl;

import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;

/** LOGIN (draft-murchison-sasl-login): user name, then password, each prompted in base64. */
final class SaslLogin implements SaslMechanism {

  static final String USERNAME_PROMPT = "VXNlcm5hbWU6";
  static final String PASSWORD_PROMPT = "UGFzc3dvcmQ6";

  private String user;

  @Override
  public SaslStep start(byte[] initialResponse) {
    if (initialResponse == null) {
      return new SaslStep.Challenge(USERNAME_PROMPT);
    }
    return next(initialResponse);
  }

  @Override
  public SaslStep next(byte[] response) {
    byte[] decoded = SaslMechanism.decode(response);
    if (decoded == null) {
      return new SaslStep.Malformed("Invalid base64 data.");
    }
    if (user == null) {
      user = new String(decoded, StandardCharsets.UTF_8);
      return new SaslStep.Challenge(PASSWORD_PROMPT);
    }
    return new SaslStep.Done(new Credentials(user, Secret.of(decoded)));
  }
}
