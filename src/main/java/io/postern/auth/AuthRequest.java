package io.postern.auth;

import io.postern.config.Protocol;
import io.postern.credentials.Credentials;

/**
 * One login attempt as an auth source sees it. {@code tlsProtocol} and {@code tlsCipher} are null
 * on a plaintext connection; {@code attempt} counts from 1 per connection. {@code
 * clientCertificate} is null unless the listener asks for client certificates and the session
 * is in TLS.
 */
public record AuthRequest(
    Protocol protocol,
    String mechanism,
    Credentials credentials,
    String clientIp,
    String tlsProtocol,
    String tlsCipher,
    int attempt,
    ClientCertificate clientCertificate) {

  /** The SASL mechanism with which a certificate stands in for the password (RFC 4422 A). */
  public static final String EXTERNAL = "EXTERNAL";

  /** A login on a listener that asks for no client certificate. */
  public AuthRequest(Protocol protocol, String mechanism, Credentials credentials,
      String clientIp, String tlsProtocol, String tlsCipher, int attempt) {
    this(protocol, mechanism, credentials, clientIp, tlsProtocol, tlsCipher, attempt, null);
  }

  public boolean secured() {
    return tlsProtocol != null;
  }

  /** Whether the client proved who it is with its certificate, not a password. */
  public boolean external() {
    return EXTERNAL.equals(mechanism);
  }
}
