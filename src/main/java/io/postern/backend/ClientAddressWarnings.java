package io.postern.backend;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warning that a {@code client-ip: forward} backend server does not offer the extension that
 * carries the client's address (IMAP {@code ID}, POP3 {@code XCLIENT}), so its logins go on
 * without it: logged once per server and extension, not once per login, since it holds until
 * the server's configuration changes. Shared by every event loop.
 */
public final class ClientAddressWarnings {

  private static final Logger LOG = LoggerFactory.getLogger("postern.backend");
  /** Servers come from the configuration or an auth source's answers: bounded either way. */
  private static final int MAX_REMEMBERED = 10_000;
  private static final Set<String> warned = ConcurrentHashMap.newKeySet();

  private ClientAddressWarnings() {}

  /** {@code target}'s server lacks {@code extension}; {@code why} says what it offered instead. */
  public static void missing(BackendTarget target, String extension, String why) {
    String key = target.backend() + "/" + target.server() + "/" + target.host() + ":"
        + target.port() + "/" + extension;
    if (warned.size() < MAX_REMEMBERED && warned.add(key)) {
      LOG.warn("backend {} {}: logins go on without the client's address (client-ip: forward;"
          + " logged once per server)", target, why);
    }
  }
}
