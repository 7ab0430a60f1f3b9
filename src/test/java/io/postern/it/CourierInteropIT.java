package io.postern.it;

import java.nio.file.Path;
import java.util.Map;

/** {@link BackendInteropTests} with Courier-IMAP and Courier POP3 behind Postern. */
class CourierInteropIT extends BackendInteropTests {

  @Override
  MailBackend startBackend(Path dir, Map<String, String> usersAndPasswords) throws Exception {
    return CourierServer.start(dir, usersAndPasswords);
  }
}
