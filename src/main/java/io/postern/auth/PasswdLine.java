package io.postern.auth;

import io.postern.credentials.Secret;
import java.util.Locale;

/**
 * Parses one non-blank, non-comment passwd-file line,
 * {@code user:password:uid:gid:gecos:home:shell:extra fields}, the way Dovecot 2.3's
 * db-passwd-file.c does, with stricter errors where Dovecot would only log and skip.
 */
final class PasswdLine {

  private final String source;
  private final int line;

  private String backend;
  private String host;
  private String destuser;
  private Secret pass;
  private boolean nologin;
  private String reason;

  private PasswdLine(String source, int line) {
    this.source = source;
    this.line = line;
  }

  static PasswdEntry parse(String text, int line, String source) throws PasswdFileException {
    return new PasswdLine(source, line).parse(text);
  }

  private PasswdEntry parse(String text) throws PasswdFileException {
    // At most 8 fields: the extra fields may themselves contain ':' (userdb_mail=maildir:~/Maildir).
    String[] fields = text.split(":", 8);
    if (fields.length < 2) {
      throw error("no ':' after the user name");
    }
    String user = fields[0];
    checkUser(user);
    String password = libpamPassword(fields[1]);
    if (!password.isEmpty()) {
      String problem = PasswordSchemes.problem(password).orElse(null);
      if (problem != null) {
        throw error("password of user '" + user + "': " + problem);
      }
    }
    // Dovecot's old format: an empty 8th field followed by more fields carries only a userdb mail
    // location, which a proxy has no use for.
    if (fields.length == 8 && !fields[7].startsWith(":")) {
      parseExtraFields(fields[7]);
    }
    return new PasswdEntry(
        user.toLowerCase(Locale.ROOT), password, backend, host, destuser, pass, nologin, reason,
        line);
  }

  private void checkUser(String user) throws PasswdFileException {
    if (user.isEmpty()) {
      throw error("empty user name");
    }
    for (int i = 0; i < user.length(); ) {
      int cp = user.codePointAt(i);
      if (Character.isISOControl(cp) || Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
        // The name is not echoed: it would carry the offending character into the log.
        throw error("user name contains whitespace or a control character");
      }
      i += Character.charCount(cp);
    }
  }

  /**
   * Dovecot's libpam-pwdfile compatibility: {@code hash[34]} is PLAIN-MD5, {@code hash[56]}
   * DIGEST-MD5, any other {@code hash[NN]} CRYPT. Fields starting with '{' or '$' are never read so.
   */
  private static String libpamPassword(String field) {
    int len = field.length();
    if (len <= 4 || field.charAt(0) == '{' || field.charAt(0) == '$'
        || field.charAt(len - 1) != ']' || field.charAt(len - 4) != '['
        || !isDigit(field.charAt(len - 3)) || !isDigit(field.charAt(len - 2))) {
      return field;
    }
    String hash = field.substring(0, len - 4);
    switch (field.substring(len - 3, len - 1)) {
      case "34":
        return "{PLAIN-MD5}" + hash;
      case "56":
        return "{DIGEST-MD5}" + hash;
      default:
        return "{CRYPT}" + hash;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /**
   * Space-separated {@code key=value} or bare {@code key} tokens. Dovecot splits on spaces with
   * no quoting or escaping, so a value ends at the next space; repeated spaces separate nothing.
   * Unknown keys ({@code userdb_*}, {@code proxy}, {@code port}, …) are ignored; a repeated key
   * keeps its last value, as Dovecot's auth_request_set_field does.
   */
  private void parseExtraFields(String extra) throws PasswdFileException {
    for (String token : extra.split(" ")) {
      if (token.isEmpty()) {
        continue;
      }
      int eq = token.indexOf('=');
      String key = eq < 0 ? token : token.substring(0, eq);
      String value = eq < 0 ? null : token.substring(eq + 1);
      switch (key) {
        case "backend":
          backend = required(key, value);
          break;
        case "host":
          host = required(key, value);
          break;
        case "destuser":
          destuser = required(key, value);
          break;
        case "pass":
          pass = Secret.of(required(key, value));
          break;
        case "nologin":
          // Dovecot sets no_login for the key whatever its value, so "nologin=n" is still nologin.
          nologin = true;
          break;
        case "reason": {
          String expanded = value == null ? "" : expand(key, value);
          reason = expanded.isEmpty() ? null : expanded;
          break;
        }
        default:
          break;
      }
    }
  }

  private String required(String key, String value) throws PasswdFileException {
    if (value == null || value.isEmpty()) {
      throw error("empty value for " + key + "=");
    }
    return expand(key, value);
  }

  /**
   * Dovecot runs %-variable expansion over extra field values, so "%%" is a literal '%' and any
   * other '%' names a per-login variable. Postern expands no variables; it refuses them rather
   * than pass "%u" on literally. The message names the key only, never the value.
   */
  private String expand(String key, String value) throws PasswdFileException {
    if (value.indexOf('%') < 0) {
      return value;
    }
    StringBuilder out = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c != '%') {
        out.append(c);
      } else if (i + 1 < value.length() && value.charAt(i + 1) == '%') {
        out.append('%');
        i++;
      } else {
        throw error(key + "= uses a %-variable, which Postern does not expand (write %% for '%')");
      }
    }
    return out.toString();
  }

  private PasswdFileException error(String what) {
    return new PasswdFileException(source, line, what);
  }
}
