package io.postern.admin;

import io.postern.testing.FakeBackend;

/** Fake IMAP servers for the admin API tests. */
final class AdminApiTestScripts {

  private AdminApiTestScripts() {}

  /** Takes any user with {@code password}; {@code name} is in the login reply. */
  static FakeBackend.Script answering(String name, String password) {
    return c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] " + name + " ready\r\n");
      while (true) {
        String line = c.readLine();
        String[] words = line.split(" ");
        String tag = words[0];
        switch (words.length > 1 ? words[1].toUpperCase() : "") {
          case "LOGIN" -> c.send(tag + (words[3].replace("\"", "").equals(password)
              ? " OK [CAPABILITY IMAP4rev1] Logged in at " + name + "\r\n"
              : " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"));
          case "LOGOUT" -> {
            c.send("* BYE bye\r\n" + tag + " OK LOGOUT completed\r\n");
            return;
          }
          default -> c.send(tag + " OK " + name + "\r\n");
        }
      }
    };
  }
}
