package io.postern.it;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Whether a mail server has come up: it greets on a port with {@code * OK} (IMAP) or {@code +OK}
 * (POP3). The probe then logs out, so the server sees a polite client rather than an error.
 */
final class MailGreeting {

  private MailGreeting() {}

  static boolean greets(int port, String greeting) {
    try (Conversation c = MailClient.plain(port, null)) {
      return greets(c, greeting);
    } catch (IOException notYet) {
      return false;
    }
  }

  /** The same over implicit TLS, trusting only {@code certificate} (a PEM file). */
  static boolean greetsOverTls(int port, Path certificate, String greeting) {
    try (Conversation c = MailClient.implicitTls(port, certificate)) {
      return greets(c, greeting);
    } catch (IOException notYet) {
      return false;
    }
  }

  private static boolean greets(Conversation c, String greeting) throws IOException {
    String line = c.readLine();
    c.send(greeting.startsWith("*") ? "a LOGOUT\r\n" : "QUIT\r\n");
    return line.startsWith(greeting);
  }
}
