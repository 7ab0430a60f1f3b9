package io.postern.sasl;

import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * Google's XOAUTH2: {@code user=<user>^Aauth=Bearer <token>^A^A}. A refused token is answered
 * with Google's JSON error as a challenge; the client answers it with an empty line, and only
 * then does the command fail.
 */
public final class SaslXoauth2 implements SaslMechanism {

  public static final String NAME = "XOAUTH2";
  /** Google's error for a token it does not take: a challenge the client must answer. */
  static final String ERROR = "{\"status\":\"401\",\"schemes\":\"bearer\"}";

  /** The client side: base64 of the message, for replaying a token at a backend. */
  public static String encode(String user, Secret token) {
    byte[] message = (("user=" + user + "\u0001auth=Bearer " + token.text() + "\u0001\u0001"))
        .getBytes(StandardCharsets.UTF_8);
    return Base64.getEncoder().encodeToString(message);
  }

  @Override
  public SaslStep next(byte[] response) {
    byte[] message = SaslMechanism.decode(response);
    if (message == null) {
      return new SaslStep.Malformed("Invalid base64 data.");
    }
    Map<String, String> pairs = BearerMessage.pairs(message, 0);
    if (pairs == null || pairs.size() != 2) {
      return new SaslStep.Malformed("Invalid XOAUTH2 message.");
    }
    String user = pairs.get("user");
    String token = BearerMessage.bearerToken(pairs.get("auth"));
    if (user == null || user.isEmpty() || token == null) {
      return new SaslStep.Malformed("Invalid XOAUTH2 message.");
    }
    return new SaslStep.Done(new Credentials(user, Secret.of(token)));
  }

  @Override
  public SaslStep.Refusal refusal() {
    return new SaslStep.Refusal(BearerMessage.challenge(ERROR));
  }
}
