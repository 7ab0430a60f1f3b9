package io.postern.session;

import io.postern.auth.Authenticator;
import io.postern.auth.LoginGate;
import io.postern.backend.BackendCapabilities;
import io.postern.backend.BackendConnector;
import io.postern.config.ListenerConfig;
import io.postern.config.PosternConfig;
import io.postern.metrics.ListenerMeters;
import io.postern.metrics.PosternMeters;
import io.postern.tls.CurrentTls;
import io.vertx.core.Vertx;

/** What a session needs from the listener that accepted it. One per listener instance. */
public record ListenerContext(
    Vertx vertx,
    PosternConfig config,
    ListenerConfig listener,
    CurrentTls tls,
    Authenticator authenticator,
    BackendConnector backends,
    ShutdownSignal shutdown,
    PosternMeters meters,
    LoginGate gate,
    HandshakeLimit handshakes,
    LiveSessions sessions) {

  /** What the backends' health checks saw their servers offer, shared by all listeners. */
  public BackendCapabilities capabilities() {
    return backends.pools().capabilities();
  }

  /** This listener's own meters. */
  public ListenerMeters listenerMeters() {
    return meters.listener(listener.name());
  }
}
