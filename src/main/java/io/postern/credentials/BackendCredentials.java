package io.postern.credentials;

import java.util.Objects;

/**
 * What Postern presents when it logs in at a backend on a user's behalf. The backend checks
 * {@code user} with {@code secret}: a password, or a bearer token for the OAuth mechanisms. With
 * {@code authorizeAs}, {@code user} is one of the backend's master users opening
 * {@code authorizeAs}'s mailbox (SASL PLAIN's authorization identity, RFC 4616 §2).
 */
public record BackendCredentials(Mechanism mechanism, String user, Secret secret,
    String authorizeAs) {

  /** How the backend is asked. */
  public enum Mechanism {
    /** IMAP AUTHENTICATE PLAIN or LOGIN, POP3 AUTH PLAIN or USER/PASS. */
    PASSWORD,
    /** The client's bearer token replayed with Google's XOAUTH2. */
    XOAUTH2,
    /** The client's bearer token replayed with OAUTHBEARER (RFC 7628). */
    OAUTHBEARER
  }

  public BackendCredentials {
    Objects.requireNonNull(mechanism, "mechanism");
    Objects.requireNonNull(user, "user");
  }

  /** A user and password, as most logins are made. */
  public static BackendCredentials password(String user, Secret password) {
    return new BackendCredentials(Mechanism.PASSWORD, user, password, null);
  }

  /** The mailbox's owner: whom the backend serves, and whose server a pool picks. */
  public String mailbox() {
    return authorizeAs == null ? user : authorizeAs;
  }

  @Override
  public String toString() {
    return "BackendCredentials[mechanism=" + mechanism + ", user=" + user
        + (authorizeAs == null ? "" : ", authorizeAs=" + authorizeAs) + "]";
  }
}
