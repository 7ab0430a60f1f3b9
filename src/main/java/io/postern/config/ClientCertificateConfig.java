package io.postern.config;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A listener's client certificates: whether its TLS asks for one ({@code mode}), the CA file
 * that verifies them ({@code ca}, PEM, null when {@code mode} is none), and whether the
 * certificate must name the user who logs in ({@code user}; also what {@code EXTERNAL} logs in
 * as). {@code crl}, a PEM file of those CAs' revocation lists, refuses the certificates they
 * revoke (null: none is checked).
 */
public record ClientCertificateConfig(Mode mode, Path ca, UserMatch user, Path crl) {

  /** No client certificates: the default of every listener. */
  public static final ClientCertificateConfig NONE =
      new ClientCertificateConfig(Mode.NONE, null, UserMatch.NONE);

  /** Without revocation lists. */
  public ClientCertificateConfig(Mode mode, Path ca, UserMatch user) {
    this(mode, ca, user, null);
  }

  public ClientCertificateConfig {
    mode = mode == null ? Mode.NONE : mode;
    user = user == null ? UserMatch.NONE : user;
  }

  /** Whether the listener's handshakes ask for a certificate. */
  public boolean requested() {
    return mode != Mode.NONE;
  }

  /** {@code client-certificates}. */
  public enum Mode {
    /** Not asked for. */
    NONE,
    /**
     * Asked for; a client may send none. One it sends must verify, or the handshake fails (as
     * nginx's {@code ssl_verify_client optional}).
     */
    OPTIONAL,
    /** A client without a certificate that verifies fails the handshake. */
    REQUIRED;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** {@code client-certificate-user}: which part of the certificate names the user. */
  public enum UserMatch {
    /** The certificate is not tied to a user; EXTERNAL is not offered. */
    NONE,
    /** The subject's common name. */
    CN,
    /** The subject's emailAddress, or an rfc822Name subject alternative name. */
    EMAIL;

    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
