package io.postern.listener;

import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.postern.backend.BackendConnector;
import io.postern.config.LimitsConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.Protocol;
import io.postern.config.TlsMode;
import io.postern.imap.ImapProtocol;
import io.postern.metrics.ListenerMeters;
import io.postern.metrics.ListenerMeters.Rejection;
import io.postern.net.Addresses;
import io.postern.pop3.Pop3Protocol;
import io.postern.session.ClientSession;
import io.postern.session.Goodbye;
import io.postern.session.ListenerContext;
import io.postern.session.MailProtocol;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.impl.HAProxyMessageCompletionHandler;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.ServerSSLOptions;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
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
        (backend, nanos) -> shared.meters().backend(backend).connected(nanos));
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
    InetAddress client = Addresses.literal(socket.remoteAddress().hostAddress());
    if (client == null) {
      socket.close();
      return;
    }
    if (listener.proxyProtocol()) {
      InetAddress peer = Addresses.literal(socket.remoteAddress(true).hostAddress());
      if (peer == null || !shared.config().limits().isTrusted(peer)) {
        // Only trusted load balancers may say who the client is.
        LOG.warn("listener {}: PROXY header from untrusted {} refused", listener.name(),
            peer == null ? "peer" : peer.getHostAddress());
        meters.rejected(Rejection.PROXY_HEADER);
        socket.close();
        return;
      }
    }
    if (listener.protocol() == Protocol.IMAP) {
      admit(socket, client, ImapProtocol::new);
    } else {
      admit(socket, client, Pop3Protocol::new);
    }
  }

  /** Applies the connection limits, then starts the session; refusals in the protocol's words. */
  private <R> void admit(NetSocket socket, InetAddress client,
      Supplier<MailProtocol<R>> protocols) {
    ConnectionLimits.Refusal refusal = shared.limits().admit(client);
    if (refusal != null) {
      boolean perIp = refusal == ConnectionLimits.Refusal.PER_IP;
      meters.rejected(perIp ? Rejection.PER_IP : Rejection.MAX_CONNECTIONS);
      String line = protocols.get().goodbye(perIp ? Goodbye.TOO_MANY_FROM_ADDRESS
          : Goodbye.TOO_MANY_CONNECTIONS, null);
      socket.write(Buffer.buffer(line)).eventually(socket::close);
      return;
    }
    meters.opened();
    ClientSession.start(context, socket, client, protocols, () -> {
      meters.closed();
      shared.limits().release(client);
    });
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

  /**
   * A malformed header is Netty's {@link HAProxyProtocolException}, or whatever else its decoder
   * lets out (a v2 TLV longer than the header comes out as an IndexOutOfBoundsException: found by
   * ProxyHeaderFuzzTest); a header for a transport other than TCP (UDP, UNIX sockets) is one
   * exception object Vert.x keeps for it.
   */
  static boolean isProxyHeaderProblem(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof HAProxyProtocolException
          || t == HAProxyMessageCompletionHandler.UNSUPPORTED_PROTOCOL_EXCEPTION
          || thrownByTheProxyCodec(t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the code that threw {@code t}, below buffer and JDK helpers, is Netty's PROXY codec.
   * Only where it was thrown counts: a TLS error on bytes that came with the header passes
   * through the codec's frames too.
   */
  private static boolean thrownByTheProxyCodec(Throwable t) {
    for (StackTraceElement frame : t.getStackTrace()) {
      String name = frame.getClassName();
      if (!name.startsWith("java.") && !name.startsWith("jdk.")
          && !name.startsWith("io.netty.buffer.") && !name.startsWith("io.netty.util.")) {
        return name.startsWith("io.netty.handler.codec.haproxy.");
      }
    }
    return false;
  }
}
