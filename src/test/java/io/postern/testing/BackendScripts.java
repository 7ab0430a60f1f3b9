package io.postern.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Ready-made backend behaviours for {@link FakeBackend}: a small but correct IMAP and POP3 server
 * login, followed by an "after login" behaviour chosen by the test.
 */
public final class BackendScripts {

  /** What a backend does once the user has logged in. */
  @FunctionalInterface
  public interface AfterLogin {
    void run(Conversation c) throws Exception;
  }

  /** Echoes every byte back, unchanged: proves the relay is byte-exact in both directions. */
  public static final AfterLogin ECHO = c -> {
    byte[] buf = new byte[65536];
    java.io.InputStream in = c.socket().getInputStream();
    java.io.OutputStream out = c.socket().getOutputStream();
    int n;
    while ((n = in.read(buf)) > 0) {
      out.write(buf, 0, n);
      out.flush();
    }
  };

  /**
   * Answers {@code tag NOOP}, {@code tag LOGOUT} (BYE, OK, close) and {@code tag WHOAMI} (an
   * untagged line naming the user); anything else gets {@code tag OK}.
   */
  public static AfterLogin imapCommands(String user) {
    return c -> {
      while (true) {
        String line = c.readLine();
        String tag = line.split(" ", 2)[0];
        String command = line.contains(" ") ? line.split(" ", 3)[1].toUpperCase() : "";
        switch (command) {
          case "LOGOUT" -> {
            c.send("* BYE backend logging out\r\n" + tag + " OK LOGOUT completed\r\n");
            c.close();
            return;
          }
          case "WHOAMI" -> c.send("* WHOAMI " + user + "\r\n" + tag + " OK done\r\n");
          default -> c.send(tag + " OK " + command + " completed\r\n");
        }
      }
    };
  }

  private BackendScripts() {}

  /** An IMAP server greeting with {@code capabilities}, accepting LOGIN and AUTHENTICATE PLAIN. */
  public static FakeBackend.Script imap(String capabilities, String user, String password,
      AfterLogin after) {
    return c -> {
      c.send("* OK [CAPABILITY " + capabilities + "] fake backend ready\r\n");
      while (true) {
        String line = c.readLine();
        String[] words = line.split(" ", 3);
        String tag = words[0];
        String command = words.length > 1 ? words[1].toUpperCase() : "";
        switch (command) {
          case "CAPABILITY" -> c.send("* CAPABILITY " + capabilities + "\r\n" + tag
              + " OK CAPABILITY completed\r\n");
          case "ID" -> c.send("* ID (\"name\" \"fake\")\r\n" + tag + " OK ID completed\r\n");
          case "STARTTLS" -> {
            c.send(tag + " OK Begin TLS\r\n");
            c.startTls(false);
          }
          case "LOGIN" -> {
            String[] credentials = ImapArguments.read(c, words[2]);
            if (credentials[0].equals(user) && credentials[1].equals(password)) {
              c.send(tag + " OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n");
              after.run(c);
              return;
            }
            c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
          }
          case "AUTHENTICATE" -> {
            String[] parts = words[2].split(" ");
            String[] up = new String(Base64.getDecoder().decode(parts[1]),
                StandardCharsets.UTF_8).split("\0", -1);
            if (up[1].equals(user) && up[2].equals(password)) {
              c.send(tag + " OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n");
              after.run(c);
              return;
            }
            c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
          }
          case "LOGOUT" -> {
            c.send("* BYE bye\r\n" + tag + " OK LOGOUT completed\r\n");
            return;
          }
          default -> c.send(tag + " BAD unexpected\r\n");
        }
      }
    };
  }

  /** A POP3 server offering {@code capa} lines, accepting USER/PASS and AUTH PLAIN. */
  public static FakeBackend.Script pop3(String capa, String user, String password,
      AfterLogin after) {
    return c -> {
      c.send("+OK fake POP3 ready\r\n");
      String givenUser = null;
      while (true) {
        String line = c.readLine();
        String[] words = line.split(" ", 2);
        switch (words[0].toUpperCase()) {
          case "CAPA" -> c.send("+OK\r\n" + capa + ".\r\n");
          case "STLS" -> {
            c.send("+OK Begin TLS\r\n");
            c.startTls(false);
          }
          case "USER" -> {
            givenUser = words[1];
            c.send("+OK\r\n");
          }
          case "PASS" -> {
            if (user.equals(givenUser) && password.equals(words[1])) {
              c.send("+OK Logged in as " + user + "\r\n");
              after.run(c);
              return;
            }
            c.send("-ERR [AUTH] Authentication failed.\r\n");
          }
          case "AUTH" -> {
            String[] up = new String(Base64.getDecoder().decode(words[1].split(" ")[1]),
                StandardCharsets.UTF_8).split("\0", -1);
            if (up[1].equals(user) && up[2].equals(password)) {
              c.send("+OK Logged in as " + user + "\r\n");
              after.run(c);
              return;
            }
            c.send("-ERR [AUTH] Authentication failed.\r\n");
          }
          case "QUIT" -> {
            c.send("+OK bye\r\n");
            return;
          }
          default -> c.send("-ERR unexpected\r\n");
        }
      }
    };
  }

  /** POP3 commands after login: QUIT closes, RETR n sends n bytes as a message, others +OK. */
  public static AfterLogin pop3Commands() {
    return c -> {
      while (true) {
        String line;
        try {
          line = c.readLine();
        } catch (IOException e) {
          return;
        }
        if (line.equalsIgnoreCase("QUIT")) {
          c.send("+OK bye\r\n");
          c.close();
          return;
        }
        c.send("+OK " + line + "\r\n");
      }
    };
  }
}
