package io.postern.listener;

import io.postern.backend.BackendConnector;
import io.postern.config.LimitsConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.imap.ImapSession;
import io.postern.metrics.ListenerMeters;
import io.postern.metrics.ListenerMeters.Rejection;
import io.postern.pop3.Pop3Session;
import io.postern.session.ClientConnection;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.ServerSSLOptions;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns one listener's {@link NetServer} on one event loop; Postern deploys one instance per
 * event loop and Vert.x spreads accepted connections over them. It applies the connection limits
 * and the PROXY header policy, then hands each connection to a protocol session.
 */
public final class ListenerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ListenerVerticle.class);

  private final SharedServices shared;
  private final ListenerConfig listener;
  private NetServer server;
  private ListenerContext context;
  private ListenerMeters meters;

  public ListenerVerticle(SharedServices shared, ListenerConfig listener) {
    this.shared = shared;
    this.listener = listener;
  }

  @Override
  public Future<?> start() {
    BackendConnector backends = new BackendConnector(vertx, shared.config(), shared.backendTls(),
        shared.meters());
    context = new ListenerContext(vertx, shared.config(), listener, shared.tls(),
        shared.authenticator(), backends, shared.shutdown(), shared.meters(), shared.throttle());
    meters = context.listenerMeters();
    server = vertx.createNetServer(options());
    return server.connectHandler(this::accepted)
        .exceptionHandler(this::failedBeforeSession)
        .listen(vertxPort(), listener.address())
        .onSuccess(s -> {
          SharedServerTls.adopt(s);
          shared.bound(listener.name(), s.actualPort());
          meters.up(true);
        });
  }

  @Override
  public Future<?> stop() {
    meters.up(false);
    // Sessions before login get their goodbye at once; relays get the grace period to finish.
    return server.shutdown(shared.config().limits().shutdownGrace().toMillis(),
            TimeUnit.MILLISECONDS)
        .eventually(() -> context.backends().close());
  }

  /**
   * Vert.x shares a port between instances, except port 0, where each instance would get its own
   * random port; a negative number asks for one random port shared by all instances (distinct per
   * listener, or two port-0 listeners would share one server).
   */
  private int vertxPort() {
    if (listener.port() != 0) {
      return listener.port();
    }
    return -1 - shared.config().listeners().indexOf(listener);
  }

  private NetServerOptions options() {
    LimitsConfig limits = shared.config().limits();
    NetServerOptions options = new NetServerOptions()
        .setTcpKeepAlive(true)
        .setTcpNoDelay(true)
        .setUseProxyProtocol(listener.proxyProtocol())
        .setProxyProtocolTimeout(limits.handshakeTimeout().toMillis())
        .setProxyProtocolTimeoutUnit(TimeUnit.MILLISECONDS);
    if (shared.tls() != null) {
      options.setSslEngineOptions(shared.tls().engine());
    }
    if (listener.tls() == TlsMode.IMPLICIT) {
      ServerSSLOptions ssl = shared.tls().options();
      options.setSsl(true)
          .setKeyCertOptions(ssl.getKeyCertOptions())
          .setSni(ssl.isSni())
          .setEnabledSecureTransportProtocols(ssl.getEnabledSecureTransportProtocols())
          .setSslHandshakeTimeout(ssl.getSslHandshakeTimeout())
          .setSslHandshakeTimeoutUnit(ssl.getSslHandshakeTimeoutUnit());
      for (String suite : ssl.getEnabledCipherSuites()) {
        options.addEnabledCipherSuite(suite);
      }
    }
    return options;
  }

  private void accepted(NetSocket socket) {
    meters.accepted();
    if (socket.isSsl()) {
      // Implicit TLS: Vert.x hands over the connection once its handshake is done.
      meters.handshake(socket.sslSession() == null ? "unknown"
          : socket.sslSession().getProtocol());
    }
    InetAddress client = address(socket.remoteAddress().hostAddress());
    if (client == null) {
      socket.close();
      return;
    }
    if (listener.proxyProtocol()) {
      InetAddress peer = address(socket.remoteAddress(true).hostAddress());
      if (peer == null || !shared.config().limits().isTrusted(peer)) {
        // Only trusted load balancers may say who the client is.
        LOG.warn("listener {}: PROXY header from untrusted {} refused", listener.name(),
            peer == null ? "peer" : peer.getHostAddress());
        meters.rejected(Rejection.PROXY_HEADER);
        socket.close();
        return;
      }
    }
    ConnectionLimits.Refusal refusal = shared.limits().admit(client);
    if (refusal != null) {
      meters.rejected(refusal == ConnectionLimits.Refusal.PER_IP ? Rejection.PER_IP
          : Rejection.MAX_CONNECTIONS);
      refuse(socket, refusal);
      return;
    }
    meters.opened();
    ClientConnection conn = new ClientConnection(context, socket, client);
    conn.onEnd(() -> {
      meters.closed();
      shared.limits().release(client);
    });
    if (listener.protocol() == Protocol.IMAP) {
      new ImapSession(conn).start();
    } else {
      new Pop3Session(conn).start();
    }
  }

  private void refuse(NetSocket socket, ConnectionLimits.Refusal refusal) {
    String why = refusal == ConnectionLimits.Refusal.PER_IP
        ? "Too many connections from your address." : "Too many connections.";
    String line = listener.protocol() == Protocol.IMAP
        ? "* BYE [UNAVAILABLE] " + why + "\r\n" : "-ERR [SYS/TEMP] " + why + "\r\n";
    socket.write(Buffer.buffer(line)).eventually(socket::close);
  }

  /**
   * Connections that fail before Vert.x hands them over: a failed implicit-TLS handshake, or a
   * missing or malformed PROXY header.
   */
  private void failedBeforeSession(Throwable e) {
    if (isProxyHeaderProblem(e)) {
      meters.accepted();
      meters.rejected(Rejection.PROXY_HEADER);
    } else if (listener.tls() == TlsMode.IMPLICIT) {
      meters.accepted();
      meters.handshakeFailed(e);
    }
    LOG.debug("listener {}: connection failed before its session: {}", listener.name(),
        e.toString());
  }

  private static boolean isProxyHeaderProblem(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String name = t.getClass().getName();
      if (name.contains("HAProxy") || (t.getMessage() != null
          && t.getMessage().toLowerCase(java.util.Locale.ROOT).contains("proxy protocol"))) {
        return true;
      }
    }
    return false;
  }

  /** Parses the IP literal Vert.x reports; never a DNS lookup. */
  private static InetAddress address(String literal) {
    if (literal == null) {
      return null;
    }
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
