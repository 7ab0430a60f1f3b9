package io.postern.tls;

import javax.net.ssl.SSLHandshakeException;

/**
 * Why a handshake was refused with the {@code no_application_protocol} alert: the client offered
 * ALPN protocols, and none of them is the one the listener speaks.
 */
public final class AlpnRefusal extends SSLHandshakeException {

  private static final long serialVersionUID = 1L;

  AlpnRefusal(String message) {
    super(message);
  }

  /** True when {@code failure} (or one of its causes) is this refusal. */
  public static boolean isCause(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof AlpnRefusal) {
        return true;
      }
    }
    return false;
  }

  @Override
  public synchronized Throwable fillInStackTrace() {
    // Expected and counted, never a bug: a stack trace would only cost.
    return this;
  }
}
