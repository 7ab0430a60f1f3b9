package io.postern.config;

import java.nio.file.Path;

/**
 * {@code auth.master}: master users, Dovecot's way. A login as {@code customer<separator>master}
 * (split at the first separator, as Dovecot's {@code auth_master_user_separator}) is checked
 * against {@code passwdFile} as {@code master} and opens {@code customer}'s mailbox.
 */
public record MasterConfig(String separator, Path passwdFile) {

  public static final String DEFAULT_SEPARATOR = "*";
  /** Dovecot takes one character; a few more allow {@code "+support+"} styles, no more. */
  public static final int MAX_SEPARATOR_LENGTH = 8;

  /** Why {@code separator} cannot separate names, or null. */
  public static String separatorProblem(String separator) {
    if (separator == null || separator.isEmpty()) {
      return "must not be empty";
    }
    if (separator.length() > MAX_SEPARATOR_LENGTH) {
      return "must be at most " + MAX_SEPARATOR_LENGTH + " characters";
    }
    for (int i = 0; i < separator.length(); i++) {
      char c = separator.charAt(i);
      if (c <= 0x20 || c == 0x7f) {
        // No client can type spaces or controls in a user name safely.
        return "must be printable characters other than space (is '" + separator + "')";
      }
    }
    return null;
  }
}
