package io.postern.auth;

import io.postern.config.Protocol;
import io.postern.credentials.BackendCredentials;
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

  /** The same attempt with other credentials (a master login: the master, then the customer). */
  public AuthRequest withCredentials(Credentials other) {
    return new AuthRequest(protocol, mechanism, other, clientIp, tlsProtocol, tlsCipher, attempt,
        clientCertificate);
  }

  public boolean secured() {
    return tlsProtocol != null;
  }

  /**
   * What the client's secret is: {@code XOAUTH2} or {@code OAUTHBEARER} for a bearer token
   * (which a backend is given again with that mechanism), else {@code PASSWORD}.
   */
  public BackendCredentials.Mechanism secretMechanism() {
    if (mechanism.equalsIgnoreCase("XOAUTH2")) {
      return BackendCredentials.Mechanism.XOAUTH2;
    }
    if (mechanism.equalsIgnoreCase("OAUTHBEARER")) {
      return BackendCredentials.Mechanism.OAUTHBEARER;
    }
    return BackendCredentials.Mechanism.PASSWORD;
  }

  /** True when the client's secret is a bearer token, not a password. */
  public boolean bearerToken() {
    return secretMechanism() != BackendCredentials.Mechanism.PASSWORD;
  }

  /** Whether the client proved who it is with its certificate, not a password. */
  public boolean external() {
    return EXTERNAL.equals(mechanism);
  }
}
