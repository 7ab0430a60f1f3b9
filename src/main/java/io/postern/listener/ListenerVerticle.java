package io.postern.listener;

import io.netty.channel.Channel;
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
import io.postern.net.ListenAddress;
import io.postern.pop3.Pop3Protocol;
import io.postern.session.ClientSession;
import io.postern.session.Goodbye;
import io.postern.session.ListenerContext;
import io.postern.session.MailProtocol;
import io.postern.tls.AlpnRefusal;
import io.postern.tls.ServerTls;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.impl.HAProxyMessageCompletionHandler;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.ServerSSLOptions;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns one listener's {@link NetServer} on one event loop; Postern deploys one instance per
 * event loop and Vert.x spreads accepted connections over them. Its {@link AcceptGate} applies
 * the connection limits and the PROXY header policy as the kernel hands each connection over;
 * the verticle then hands the connection to a protocol session, or says the gate's refusal.
 */
public final class ListenerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ListenerVerticle.class);

  /** The configuration's services; a reload replaces them, on this verticle's event loop. */
  private SharedServices shared;
  private ListenerConfig listener;
  private final int shareKey;
  private NetServer server;
  /** Owns the backend client for the verticle's life; contexts get views of it per reload. */
  private BackendConnector connector;
  private ListenerContext context;
  private ListenerMeters meters;
  private AcceptGate gate;
  /** Stops following certificate reloads (implicit TLS only). */
  private Runnable unfollowTls = () -> { };

  /**
   * {@code shareKey} tells this listener's instances apart from other listeners' when the
   * configuration asks for port 0 (see {@link #vertxPort}): unique per listener for the life of
   * the process, never reused after a reload.
   */
  public ListenerVerticle(SharedServices shared, ListenerConfig listener, int shareKey) {
    this.shared = shared;
    this.listener = listener;
    this.shareKey = shareKey;
  }

  @Override
  public Future<?> start() {
    connector = new BackendConnector(vertx, shared.config(), shared.backends(),
        (backend, nanos) -> shared.meters().backend(backend).connected(nanos));
    context = context(shared, listener);
    meters = context.listenerMeters();
    // Before listen: Vert.x may hand this instance a connection before listen's future completes.
    gate = new AcceptGate(shared, listener, meters);
    server = vertx.createNetServer(options());
    return server.connectHandler(this::accepted)
        .exceptionHandler(this::failedBeforeSession)
        .listen(vertxPort(), ListenAddress.host(listener.address()))
        // map, not onSuccess: what these throw (Vert.x internals changed) must fail the start.
        .map(s -> {
          SharedServerTls.adopt(s);
          AcceptGate.install(s, gate);
          shared.bound(listener.name(), s.actualPort());
          meters.up(true);
          if (listener.tls() == TlsMode.IMPLICIT) {
            // One group per bound server: its instances share one TLS context (see follow).
            unfollowTls = shared.tls().follow("listener " + listener.address() + ":"
                + s.actualPort(), this::updateTls);
          }
          return s;
        });
  }

  @Override
  public Future<?> stop() {
    unfollowTls.run();
    meters.up(false);
    // Sessions before login get their goodbye at once; PosternServer ends relays through the
    // live-session directory, spread over the drain window; what is left at the end of the grace
    // is cut.
    return server.shutdown(shared.config().limits().shutdownGrace().toMillis(),
            TimeUnit.MILLISECONDS)
        .eventually(() -> connector.close());
  }

  /**
   * A reloaded configuration for this listener, whose address, port, protocol, TLS mode and
   * PROXY setting are unchanged (anything else needs a new listener): sessions accepted from now
   * on get {@code next}'s services; sessions already open keep the ones they began with.
   */
  public Future<Void> reconfigure(SharedServices next, ListenerConfig nextListener) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    super.context.runOnContext(v -> {
      shared = next;
      listener = nextListener;
      context = context(next, nextListener);
      gate.limits(next.config().limits());
      done.complete();
    });
    return done.future();
  }

  private ListenerContext context(SharedServices services, ListenerConfig config) {
    return new ListenerContext(vertx, services.config(), config, services.tls(),
        services.authenticator(), connector.withConfig(services.config(), services.backends()),
        services.shutdown(), services.meters(), services.gate(), services.handshakeLimit(),
        services.sessions());
  }

  /**
   * New handshakes on this implicit-TLS listener use {@code next}; connections already accepted
   * keep theirs. Runs on this instance's event loop. Vert.x keeps one TLS context per shared
   * port, in the instance that bound it, and every instance hands its connections that one:
   * whichever instance is told updates it for all, so only one instance per port is told.
   * STARTTLS listeners need nothing: each upgrade reads the options in use, and Vert.x throws on
   * {@code updateSSLOptions} for a server created without TLS.
   */
  public Future<Boolean> updateTls(ServerTls next) {
    io.vertx.core.Promise<Boolean> done = io.vertx.core.Promise.promise();
    // By name: the options of this listener's client certificates in the new settings.
    super.context.runOnContext(v -> server.updateSSLOptions(next.options(listener.name()))
        .onComplete(done));
    return done.future();
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
    return -1 - shareKey;
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
      options.setSslEngineOptions(shared.tls().engine(listener));
    }
    if (listener.tls() == TlsMode.IMPLICIT) {
      ServerSSLOptions ssl = shared.tls().options(listener);
      options.setSsl(true)
          .setClientAuth(ssl.getClientAuth())
          .setTrustOptions(ssl.getTrustOptions())
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
    // Counted at accept by the gate; it has the last word here.
    Channel channel = channel(socket);
    Rejection refusal = gate.handOver(channel, client);
    if (refusal != null) {
      if (gate.saysGoodbye(refusal)) {
        goodbye(socket, refusal);
      } else {
        socket.close();
      }
      return;
    }
    // The count across instances (store: redis) is asked here, before the greeting, and not at
    // accept or at login: the gate runs on the acceptor thread and must not wait for the network,
    // and every connection holds its slot whether or not it logs in (a login check would need
    // each mechanism of both protocols to know of it). The session has not begun, so a refusal
    // is the same goodbye as the gate's; after an implicit-TLS handshake it goes out in TLS too,
    // as the handshake is paid for by then.
    Admission admission = Admission.of(channel);
    ClusterConnections cluster = shared.clusterConnections();
    Future<Boolean> across = cluster == null || admission == null ? Future.succeededFuture(true)
        : cluster.admits(admission, shared.limits().maxPerSource());
    if (across.isComplete()) {
      begin(socket, channel, client, across.result(), false);
      return;
    }
    // Anything the client sends meanwhile waits for the session's handler.
    socket.pause();
    across.onComplete(ar -> super.context.runOnContext(v -> {
      // Closed while the store was asked: the admission gave everything back when it closed.
      if (channel.isActive()) {
        begin(socket, channel, client, ar.result(), true);
      }
    }));
  }

  /**
   * The session of an admitted connection, or the goodbye of one over its address's count
   * across instances.
   */
  private void begin(NetSocket socket, Channel channel, InetAddress client, boolean admitted,
      boolean paused) {
    if (!admitted) {
      if (paused) {
        // Whatever came meanwhile is dropped (and so freed) before the close.
        socket.handler(data -> { });
        socket.resume();
      }
      meters.rejected(Rejection.PER_IP);
      Admission.of(channel).refuse(Rejection.PER_IP);
      goodbye(socket, Rejection.PER_IP);
      return;
    }
    meters.opened();
    if (listener.protocol() == Protocol.IMAP) {
      ClientSession.start(context, socket, client, ImapProtocol::new, meters::closed);
    } else {
      ClientSession.start(context, socket, client, Pop3Protocol::new, meters::closed);
    }
    if (paused) {
      socket.resume();
    }
  }

  /** A refusal in the protocol's words, then close. */
  private void goodbye(NetSocket socket, Rejection refusal) {
    MailProtocol<?> protocol = listener.protocol() == Protocol.IMAP ? new ImapProtocol()
        : new Pop3Protocol();
    Goodbye why = switch (refusal) {
      case PER_IP -> Goodbye.TOO_MANY_FROM_ADDRESS;
      case CONNECTION_RATE -> Goodbye.CONNECTING_TOO_FAST;
      default -> Goodbye.TOO_MANY_CONNECTIONS;
    };
    socket.write(Buffer.buffer(protocol.goodbye(why, null))).eventually(socket::close);
  }

  private static Channel channel(NetSocket socket) {
    if (!(socket instanceof NetSocketInternal internal)) {
      throw new IllegalStateException("not a Vert.x socket with a Netty channel: "
          + socket.getClass().getName() + " (Vert.x internals changed?)");
    }
    return internal.channelHandlerContext().channel();
  }

  /**
   * Connections that fail before Vert.x hands them over: a failed implicit-TLS handshake, or a
   * missing or malformed PROXY header.
   */
  private void failedBeforeSession(Throwable e) {
    // The gate counted the connection when it was accepted, and counts a PROXY header that
    // never came right when the connection closes.
    if (!isProxyHeaderProblem(e) && listener.tls() == TlsMode.IMPLICIT) {
      if (AlpnRefusal.isCause(e)) {
        meters.handshakeRefusedAlpn();
      } else {
        meters.handshakeFailed(e);
      }
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
