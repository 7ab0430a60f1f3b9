package io.postern.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Fuzzes the passwd-file parser with files of user lines (any user name, any scheme prefix, any
 * password text, extra fields with {@code pass=}), comments, blank lines and raw text. A file
 * either loads or fails with {@code <source>:<line>: <what>} for a line it has; and neither the
 * message nor any entry's text ever shows a password or a {@code pass=} value, which is what an
 * operator pastes into a ticket.
 */
class PasswdFileFuzzTest {

  private static final String SOURCE = "users.passwd";
  private static final String[] SCHEMES = {"", "{PLAIN}", "{plain}", "{CRYPT}", "{SHA512-CRYPT}",
      "{BLF-CRYPT}", "{ARGON2ID}", "{ARGON2I}", "{PBKDF2}", "{SSHA}", "{SSHA512}", "{PLAIN-MD5}",
      "{MD5}", "{SHA256.HEX}", "{SHA.B64}", "{LDAP-MD5}", "{FOO}", "{", "{}"};
  private static final String[] VALUES = {"$6$rounds=5000$salt$", "$2y$10$", "$argon2id$v=19$m=",
      "$1$abc$", "$5$", "[34]", "[56]", "[00]", "hunter2"};
  private static final String[] EXTRAS = {"nologin", "reason=Moved to the new server",
      "reason=100%% off", "backend=archive", "host=10.0.0.7", "destuser=bob", "userdb_mail=maildir:~",
      "proxy", "host=%u", "destuser=", "backend"};

  @FuzzTest
  void errorsNameTheLineAndNeverShowASecret(FuzzedDataProvider data) {
    List<String> secrets = new ArrayList<>();
    List<String> users = new ArrayList<>();
    StringBuilder file = new StringBuilder();
    int lines = data.consumeInt(1, 6);
    for (int i = 0; i < lines; i++) {
      switch (data.consumeInt(0, 4)) {
        case 0 -> file.append(data.consumeString(80));
        case 1 -> file.append(data.pickValue(new String[] {"", "  ", "# a comment", "\t"}));
        default -> file.append(userLine(data, users, secrets));
      }
      file.append(data.consumeBoolean() ? "\n" : "\r\n");
    }
    String content = file.toString();
    for (String line : content.split("\n", -1)) {
      int colon = line.indexOf(':');
      String user = colon < 0 ? line : line.substring(0, colon);
      // A byte-order mark opening the file is no part of the first user's name.
      users.add(user.startsWith("\uFEFF") ? user.substring(1) : user);
    }

    PasswdFile passwd;
    try {
      passwd = PasswdFile.parse(content, SOURCE);
    } catch (PasswdFileException e) {
      int lineCount = content.split("\n", -1).length;
      assertTrue(e.line() >= 1 && e.line() <= lineCount, "line " + e.line() + " of " + lineCount);
      assertTrue(e.getMessage().startsWith(SOURCE + ":" + e.line() + ": "), e.getMessage());
      checkShowsNoSecret(e.getMessage(), users, secrets);
      return;
    } catch (RuntimeException e) {
      throw new AssertionError("a failure that is no PasswdFileException", e);
    }
    checkShowsNoSecret(passwd.toString(), users, secrets);
    for (PasswdEntry entry : passwd.entries()) {
      assertFalse(entry.user().isEmpty());
      assertEquals(entry.user().toLowerCase(Locale.ROOT), entry.user(), "user names fold to lower");
      // Folding is Locale.ROOT lower case, which not every Unicode upper case maps back to.
      assertSame(entry, passwd.find(asciiUpper(entry.user())).orElse(null),
          "a user not found in upper case: " + entry.user());
      checkShowsNoSecret(entry.toString(), users, secrets);
    }
  }

  /** {@code user:{SCHEME}password} with, sometimes, the extra fields after six more colons. */
  private static String userLine(FuzzedDataProvider data, List<String> users,
      List<String> secrets) {
    String user = data.consumeBoolean() ? data.pickValue(new String[] {"bob", "Alice", "a@b.c"})
        : data.consumeString(12);
    String password = (data.consumeBoolean() ? data.pickValue(VALUES) : "")
        + data.consumeString(40);
    // The password field ends at the next ':' (or line end); what follows is other fields.
    secrets.add(upTo(password, ":\r\n"));
    StringBuilder line = new StringBuilder(user).append(':')
        .append(data.pickValue(SCHEMES)).append(password);
    if (data.consumeBoolean()) {
      line.append("::::::");
      for (int i = data.consumeInt(0, 4); i > 0; i--) {
        if (data.consumeBoolean()) {
          String pass = data.consumeString(24);
          // A value ends at the next space: what follows is another field, perhaps a shown one.
          secrets.add(upTo(pass, " \r\n"));
          line.append(" pass=").append(pass);
        } else {
          line.append(' ').append(data.pickValue(EXTRAS));
        }
      }
    }
    return line.toString();
  }

  /**
   * No five-character stretch of a secret that has a character Postern's own texts never use
   * (so that "hash" in a password cannot match "hash" in a message), once the user names, which
   * messages may quote, are taken out.
   */
  private static void checkShowsNoSecret(String text, List<String> users, List<String> secrets) {
    String rest = text;
    // Longest first: taking out a short name must not break a longer one that holds it.
    List<String> names = new ArrayList<>(users);
    names.sort(Comparator.comparingInt(String::length).reversed());
    for (String user : names) {
      if (!user.isEmpty()) {
        rest = rest.replace(user, "").replace(user.toLowerCase(Locale.ROOT), "");
      }
    }
    for (String secret : secrets) {
      for (int i = 0; i + 5 <= secret.length(); i++) {
        String stretch = secret.substring(i, i + 5);
        if (stretch.chars().anyMatch(PasswdFileFuzzTest::unusual) && rest.contains(stretch)) {
          fail("a secret (" + stretch + ") shows in: " + text);
        }
      }
    }
  }

  private static String upTo(String text, String ends) {
    for (int i = 0; i < text.length(); i++) {
      if (ends.indexOf(text.charAt(i)) >= 0) {
        return text.substring(0, i);
      }
    }
    return text;
  }

  private static String asciiUpper(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      out.append(c >= 'a' && c <= 'z' ? (char) (c - 32) : c);
    }
    return out.toString();
  }

  private static boolean unusual(int c) {
    return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
        || " '{}=%:().,_/-[]$".indexOf(c) >= 0);
  }
}
