package io.postern.sasl;

import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * OAUTHBEARER (RFC 7628): a GS2 header {@code n,a=<authzid>,} (the authzid optional), then
 * {@code ^Ahost=..^Aport=..^Aauth=Bearer <token>^A^A}. Channel binding ({@code p=}) is not
 * supported. The authzid becomes the user, which may be empty: the auth source then names the
 * user from the token. A refused token is answered with the RFC 7628 §3.2.2 error as a
 * challenge; the client answers it with {@code ^A}, and only then does the command fail.
 */
public final class SaslOAuthBearer implements SaslMechanism {

  public static final String NAME = "OAUTHBEARER";
  /** RFC 7628 §3.2.2's error when there is nothing to tell but the status it requires. */
  static final String ERROR = TokenDiscovery.NONE.oauthBearerError();
  /** An authzid longer than this is no user name. */
  static final int MAX_AUTHZID_BYTES = 1024;

  private final TokenDiscovery discovery;

  public SaslOAuthBearer() {
    this(TokenDiscovery.NONE);
  }

  /** {@code discovery} goes into the error a refused token is answered with. */
  public SaslOAuthBearer(TokenDiscovery discovery) {
    this.discovery = discovery;
  }

  /** The client side, for replaying a token at a backend; {@code user} may be empty. */
  public static String encode(String user, Secret token) {
    String header = user.isEmpty() ? "n,," : "n,a=" + escape(user) + ",";
    byte[] message = (header + "\u0001auth=Bearer " + token.text() + "\u0001\u0001")
        .getBytes(StandardCharsets.UTF_8);
    return Base64.getEncoder().encodeToString(message);
  }

  @Override
  public SaslStep next(byte[] response) {
    byte[] message = SaslMechanism.decode(response);
    if (message == null) {
      return new SaslStep.Malformed("Invalid base64 data.");
    }
    // gs2-header: "n" or "y" (not "p=": no channel binding), ",", optional "a=" authzid, ","
    if (message.length < 3 || message[0] != 'n' && message[0] != 'y' || message[1] != ',') {
      return malformed();
    }
    int comma = BearerMessage.indexOf(message, (byte) ',', 2);
    if (comma < 0 || comma + 1 >= message.length || message[comma + 1] != BearerMessage.KVSEP
        || comma - 2 > MAX_AUTHZID_BYTES) {
      return malformed();
    }
    String user = "";
    if (comma > 2) {
      if (comma < 5 || message[2] != 'a' || message[3] != '=') {
        return malformed();
      }
      user = unescape(new String(message, 4, comma - 4, StandardCharsets.UTF_8));
      if (user == null || user.isEmpty()) {
        return malformed();
      }
    }
    Map<String, String> pairs = BearerMessage.pairs(message, comma + 2);
    String token = pairs == null ? null : BearerMessage.bearerToken(pairs.get("auth"));
    if (token == null) {
      return malformed();
    }
    return new SaslStep.Done(new Credentials(user, Secret.of(token)));
  }

  @Override
  public SaslStep.Refusal refusal() {
    // Built only when a token is refused, not on every AUTHENTICATE.
    return new SaslStep.Refusal(BearerMessage.challenge(discovery.oauthBearerError()));
  }

  private static SaslStep malformed() {
    return new SaslStep.Malformed("Invalid OAUTHBEARER message.");
  }

  /** RFC 5801 saslname: {@code =2C} is a comma, {@code =3D} an equals sign; no other escape. */
  static String unescape(String name) {
    StringBuilder out = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == ',' || c < 0x20 || c == 0x7f) {
        return null;
      }
      if (c != '=') {
        out.append(c);
      } else if (name.startsWith("2C", i + 1)) {
        out.append(',');
        i += 2;
      } else if (name.startsWith("3D", i + 1)) {
        out.append('=');
        i += 2;
      } else {
        return null;
      }
    }
    return out.toString();
  }

  static String escape(String name) {
    return name.replace("=", "=3D").replace(",", "=2C");
  }
}
