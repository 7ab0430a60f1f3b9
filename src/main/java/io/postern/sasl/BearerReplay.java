package io.postern.sasl;

import io.postern.credentials.BackendCredentials;

/** A bearer token replayed at a backend with the client's mechanism (XOAUTH2, OAUTHBEARER). */
public final class BearerReplay {

  private BearerReplay() {}

  /** The base64 client response carrying the user and token of {@code credentials}. */
  public static String response(BackendCredentials credentials) {
    return switch (credentials.mechanism()) {
      case XOAUTH2 -> SaslXoauth2.encode(credentials.user(), credentials.secret());
      case OAUTHBEARER -> SaslOAuthBearer.encode(credentials.user(), credentials.secret());
      case PASSWORD -> throw new IllegalArgumentException("a password is no bearer token");
    };
  }

  /**
   * What answers the server's error challenge so that it sends its final failure: {@code ^A}
   * for OAUTHBEARER (RFC 7628 §3.2.3), an empty response for XOAUTH2 (Google's documentation).
   */
  public static String afterError(BackendCredentials credentials) {
    return credentials.mechanism() == BackendCredentials.Mechanism.OAUTHBEARER ? "AQ==" : "";
  }
}
