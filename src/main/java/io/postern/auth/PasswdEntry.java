package io.postern.auth;

import io.postern.credentials.Secret;
import java.util.Objects;

/**
 * One user line of a passwd-file.
 *
 * @param user the login name, lower-cased with {@link java.util.Locale#ROOT}
 * @param password the stored password field, e.g. {@code {SHA512-CRYPT}$6$...} or a bare CRYPT
 *     hash; empty when the user can never log in. A libpam-pwdfile {@code hash[34]} field is
 *     stored as {@code {PLAIN-MD5}hash}, any other {@code hash[NN]} as {@code {CRYPT}hash}.
 * @param backend the {@code backend=} extra field, or null
 * @param host the {@code host=} extra field, or null
 * @param destuser the {@code destuser=} extra field, or null
 * @param pass the {@code pass=} extra field, or null
 * @param nologin whether {@code nologin} was present (with or without a value, as in Dovecot)
 * @param reason the {@code reason=} extra field, or null when absent or empty
 * @param line the 1-based line number in the file
 */
public record PasswdEntry(
    String user,
    String password,
    String backend,
    String host,
    String destuser,
    Secret pass,
    boolean nologin,
    String reason,
    int line) {

  public PasswdEntry {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
  }

  /** Leaves out the password field and the pass= value; says only whether pass= is set. */
  @Override
  public String toString() {
    return "PasswdEntry[user=" + user
        + ", backend=" + backend
        + ", host=" + host
        + ", destuser=" + destuser
        + ", pass=" + (pass == null ? "null" : "(set)")
        + ", nologin=" + nologin
        + ", reason=" + reason
        + ", line=" + line
        + "]";
  }
}
