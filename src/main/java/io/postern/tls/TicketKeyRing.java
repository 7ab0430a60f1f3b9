package io.postern.tls;

import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;
import javax.net.ssl.SSLSessionContext;

/**
 * Puts the session ticket keys and the session lifetime in use on every server TLS context of the
 * process, those that exist and those created later (each listener, each ALPN variant, each
 * certificate reload makes its own). One ring lives as long as the process's listeners; a new
 * key set reaches existing contexts at once, so a rotation needs no new context and no restart.
 */
final class TicketKeyRing {

  /** Weak: a context retired by a certificate reload is dropped with its last connection. */
  private final Set<SslContext> contexts = Collections.newSetFromMap(new WeakHashMap<>());
  private SessionTicketKeys keys;
  private Duration sessionTimeout;
  private boolean hadKeys;
  /** The process's own key once configured keys were dropped: one for every context. */
  private SessionTicketKeys ownKey;

  TicketKeyRing(SessionTicketKeys keys, Duration sessionTimeout) {
    this.keys = keys;
    this.sessionTimeout = sessionTimeout;
  }

  /** A server context just created: it gets the keys and lifetime in use, and any later ones. */
  synchronized void register(SslContext context) {
    contexts.add(context);
    apply(context);
  }

  /** New keys and lifetime for every context; the same values change nothing. */
  synchronized void use(SessionTicketKeys nextKeys, Duration nextTimeout) {
    if (nextKeys.equals(keys) && nextTimeout.equals(sessionTimeout)) {
      return;
    }
    keys = nextKeys;
    sessionTimeout = nextTimeout;
    if (!nextKeys.isEmpty()) {
      // A later period without key files gets a key of its own, not this earlier one's.
      ownKey = null;
    }
    for (SslContext context : contexts) {
      apply(context);
    }
  }

  private void apply(SslContext context) {
    SSLSessionContext session = context.sessionContext();
    session.setSessionTimeout((int) Math.min(Integer.MAX_VALUE, sessionTimeout.toSeconds()));
    if (session instanceof OpenSslSessionContext openssl) {
      if (!keys.isEmpty()) {
        hadKeys = true;
        openssl.setTicketKeys(keys.forOpenSsl());
      } else if (hadKeys) {
        // The files were dropped from the configuration: tickets they encrypted must stop
        // resuming, as with a restart; BoringSSL would keep the last keys set.
        if (ownKey == null) {
          ownKey = SessionTicketKeys.random();
        }
        openssl.setTicketKeys(ownKey.forOpenSsl());
      }
      // Without keys BoringSSL uses its own random key, which it rotates itself.
    }
  }

}
