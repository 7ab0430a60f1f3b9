package io.postern.it;

import java.nio.file.Path;
import java.util.Map;

/** {@link BackendInteropTests} with Cyrus IMAP and POP3 behind Postern. */
class CyrusInteropIT extends BackendInteropTests {

  @Override
  MailBackend startBackend(Path dir, Map<String, String> usersAndPasswords) throws Exception {
    return CyrusServer.start(dir, usersAndPasswords);
  }
}
