package io.postern.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Dovecot-style passwd-file (https://doc.dovecot.org/2.3/configuration_manual/authentication/passwd_file/),
 * read whole and validated up front: any bad line fails the load with its line number, because a
 * proxy that silently drops a user would only show up as failed logins much later.
 */
public final class PasswdFile {

  private final Map<String, PasswdEntry> users;

  private PasswdFile(Map<String, PasswdEntry> users) {
    this.users = users;
  }

  /**
   * Parses {@code content}; {@code sourceName} prefixes error messages. Blank lines and lines
   * whose first character is {@code #} are skipped; lines may end in LF or CRLF.
   */
  public static PasswdFile parse(String content, String sourceName) throws PasswdFileException {
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(sourceName, "sourceName");
    Map<String, PasswdEntry> users = new LinkedHashMap<>();
    String[] lines = content.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String text = lines[i];
      if (text.endsWith("\r")) {
        text = text.substring(0, text.length() - 1);
      }
      if (i == 0 && text.startsWith("\uFEFF")) {
        // Editors on Windows add a byte-order mark; it would otherwise become part of a user name.
        text = text.substring(1);
      }
      if (text.isBlank() || text.startsWith("#")) {
        continue;
      }
      PasswdEntry entry = PasswdLine.parse(text, i + 1, sourceName);
      PasswdEntry earlier = users.putIfAbsent(entry.user(), entry);
      if (earlier != null) {
        throw new PasswdFileException(sourceName, entry.line(),
            "user '" + entry.user() + "' is already defined on line " + earlier.line());
      }
    }
    return new PasswdFile(Collections.unmodifiableMap(users));
  }

  /** Reads and parses a UTF-8 file; error messages name the path as given. */
  public static PasswdFile read(Path path) throws IOException, PasswdFileException {
    return parse(Files.readString(path, StandardCharsets.UTF_8), path.toString());
  }

  /** The entry for {@code user}, compared case-insensitively (lower-cased with Locale.ROOT). */
  public Optional<PasswdEntry> find(String user) {
    Objects.requireNonNull(user, "user");
    return Optional.ofNullable(users.get(user.toLowerCase(Locale.ROOT)));
  }

  /** Every entry, in file order. */
  public List<PasswdEntry> entries() {
    return List.copyOf(users.values());
  }

  /** Number of users. */
  public int size() {
    return users.size();
  }

  @Override
  public String toString() {
    return "PasswdFile[" + users.size() + " users]";
  }
}
