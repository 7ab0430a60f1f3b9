package io.postern.sasl;

import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * PLAIN (RFC 4616): {@code authzid NUL authcid NUL password}. An authorisation identity other than
 * the user itself is refused, so no one can ask to act as another user.
 */
public final class SaslPlain implements SaslMechanism {

  /** The client side: base64 of {@code NUL user NUL password}, for logging in at a backend. */
  public static String encode(String user, Secret password) {
    return encode("", user, password);
  }

  /**
   * The client side with an authorization identity (RFC 4616 §2): base64 of
   * {@code authzid NUL authcid NUL password}; a master user ({@code authcid}) opening
   * {@code authzid}'s mailbox. An empty {@code authzid} is none.
   */
  public static String encode(String authzid, String authcid, Secret password) {
    byte[] z = authzid.getBytes(StandardCharsets.UTF_8);
    byte[] u = authcid.getBytes(StandardCharsets.UTF_8);
    byte[] pw = password.bytes();
    byte[] message = new byte[z.length + u.length + pw.length + 2];
    System.arraycopy(z, 0, message, 0, z.length);
    System.arraycopy(u, 0, message, z.length + 1, u.length);
    System.arraycopy(pw, 0, message, z.length + u.length + 2, pw.length);
    Arrays.fill(pw, (byte) 0);
    String base64 = java.util.Base64.getEncoder().encodeToString(message);
    Arrays.fill(message, (byte) 0);
    return base64;
  }

  @Override
  public SaslStep next(byte[] response) {
    byte[] message = SaslMechanism.decode(response);
    if (message == null) {
      return new SaslStep.Malformed("Invalid base64 data.");
    }
    int first = indexOf(message, 0);
    int second = first < 0 ? -1 : indexOf(message, first + 1);
    if (first < 0 || second < 0 || indexOf(message, second + 1) >= 0) {
      return new SaslStep.Malformed("Invalid PLAIN message.");
    }
    String authzid = new String(message, 0, first, StandardCharsets.UTF_8);
    String authcid = new String(message, first + 1, second - first - 1, StandardCharsets.UTF_8);
    if (authcid.isEmpty()) {
      return new SaslStep.Malformed("Invalid PLAIN message.");
    }
    if (!authzid.isEmpty() && !authzid.equals(authcid)) {
      return new SaslStep.Malformed("Acting as another user is not supported.");
    }
    Secret password = Secret.of(Arrays.copyOfRange(message, second + 1, message.length));
    Arrays.fill(message, (byte) 0);
    return new SaslStep.Done(new Credentials(authcid, password));
  }

  private static int indexOf(byte[] bytes, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == 0) {
        return i;
      }
    }
    return -1;
  }
}
