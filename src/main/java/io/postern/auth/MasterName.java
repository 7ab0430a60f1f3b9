package io.postern.auth;

/**
 * A master login's name, {@code customer<separator>master}, split at the FIRST separator, as
 * Dovecot splits at its {@code auth_master_user_separator} (auth-request.c, {@code strchr}): the
 * customer's name cannot hold the separator, the master's can.
 */
public record MasterName(String customer, String master) {

  /** The parts of {@code user}, or null when it holds no {@code separator}. */
  public static MasterName split(String user, String separator) {
    int at = user.indexOf(separator);
    if (at < 0) {
      return null;
    }
    return new MasterName(user.substring(0, at), user.substring(at + separator.length()));
  }

  /** Both parts are names: {@code "*support"} and {@code "alice*"} are not master logins. */
  public boolean complete() {
    return !customer.isEmpty() && !master.isEmpty();
  }
}
