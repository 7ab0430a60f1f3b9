package io.postern.it;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The test's own IMAP connection straight to a backend, not through Postern: to deliver the
 * messages that the clients then fetch through Postern (APPEND as the user, so every server stores
 * them its own way), and to create a Cyrus user's INBOX as the admin.
 */
final class DirectImap {

  private static final Pattern LITERAL = Pattern.compile("BODY\\[\\] \\{(\\d+)\\}$");

  private DirectImap() {}

  /** Logs in to the plaintext IMAP port and APPENDs {@code message} to the user's INBOX. */
  static void append(int port, String user, String password, byte[] message) throws IOException {
    try (Conversation c = login(port, user, password)) {
      c.send("b APPEND INBOX {" + message.length + "}\r\n");
      c.expect("+");
      c.sendRaw(message);
      c.send("\r\n");
      List<String> lines = c.readUntil("b ");
      check(lines.get(lines.size() - 1), "APPEND");
      c.send("z LOGOUT\r\n");
    }
  }

  /** The bytes of the INBOX message with this UID, as the server serves them (BODY.PEEK[]). */
  static byte[] fetch(int port, String user, String password, long uid) throws IOException {
    try (Conversation c = login(port, user, password)) {
      c.send("b EXAMINE INBOX\r\n");
      List<String> lines = c.readUntil("b ");
      check(lines.get(lines.size() - 1), "EXAMINE INBOX");
      c.send("c UID FETCH " + uid + " (BODY.PEEK[])\r\n");
      byte[] body = null;
      while (true) {
        String line = c.readLine();
        Matcher literal = LITERAL.matcher(line);
        if (line.startsWith("* ") && literal.find()) {
          body = c.readBytes(Integer.parseInt(literal.group(1)));
        } else if (line.startsWith("c ")) {
          check(line, "UID FETCH " + uid);
          break;
        }
      }
      c.send("z LOGOUT\r\n");
      if (body == null) {
        throw new IOException("no message with UID " + uid + " in " + user + "'s INBOX");
      }
      return body;
    }
  }

  /** Logs in and runs one simple tagged command (e.g. {@code CREATE user/alice}). */
  static void command(int port, String user, String password, String command) throws IOException {
    try (Conversation c = login(port, user, password)) {
      c.send("b " + command + "\r\n");
      List<String> lines = c.readUntil("b ");
      check(lines.get(lines.size() - 1), command);
      c.send("z LOGOUT\r\n");
    }
  }

  private static Conversation login(int port, String user, String password) throws IOException {
    Conversation c = MailClient.plain(port, null);
    try {
      c.expect("* OK");
      c.send("a LOGIN " + quoted(user) + " " + quoted(password) + "\r\n");
      List<String> lines = c.readUntil("a ");
      check(lines.get(lines.size() - 1), "LOGIN " + user);
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private static void check(String reply, String what) throws IOException {
    if (!reply.substring(2).startsWith("OK")) {
      throw new IOException(what + " failed: " + reply);
    }
  }

  private static String quoted(String value) {
    if (!StandardCharsets.US_ASCII.newEncoder().canEncode(value) || value.contains("\"")
        || value.contains("\\")) {
      throw new IllegalArgumentException("keep test credentials to plain ASCII: " + value);
    }
    return "\"" + value + "\"";
  }
}
