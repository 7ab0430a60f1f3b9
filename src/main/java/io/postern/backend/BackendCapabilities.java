package io.postern.backend;

import io.postern.config.Protocol;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the live servers offer, as their health checks last saw it: per protocol, the
 * capabilities (IMAP {@code CAPABILITY} atoms, POP3 {@code CAPA} lines, upper case) of each
 * server that answered. A client told something before login (nginx's
 * {@code pop3_capabilities}) may be sent to any server, so only what every live server offers
 * is promised. Thread-safe: the checks write, every event loop reads.
 */
public final class BackendCapabilities {

  private record Key(String backend, String server, Protocol protocol) {}

  private final Map<Key, Set<String>> offered = new ConcurrentHashMap<>();

  /** A check of {@code server} saw these capabilities (after TLS, if the server uses it). */
  public void learned(String backend, String server, Protocol protocol, Set<String> capabilities) {
    offered.put(new Key(backend, server, protocol), Set.copyOf(capabilities));
  }

  /** {@code server} is down: what it offers no longer counts. */
  public void forget(String backend, String server, Protocol protocol) {
    offered.remove(new Key(backend, server, protocol));
  }

  /** What every server heard from offers for {@code protocol}; null when none has answered. */
  public Set<String> offeredByAll(Protocol protocol) {
    Set<String> common = null;
    for (Map.Entry<Key, Set<String>> e : offered.entrySet()) {
      if (e.getKey().protocol() != protocol) {
        continue;
      }
      if (common == null) {
        common = new HashSet<>(e.getValue());
      } else {
        common.retainAll(e.getValue());
      }
    }
    return common == null ? null : Set.copyOf(common);
  }
}
