package io.postern.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.postern.config.LimitsConfig;
import io.postern.config.ListenerConfig;
import io.postern.config.TlsMode;
import io.postern.metrics.ListenerMeters;
import io.postern.metrics.ListenerMeters.Rejection;
import io.postern.net.Addresses;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.impl.HAProxyMessageCompletionHandler;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection limits, applied where the kernel hands a connection over: first in the
 * pipeline of the listener's Netty server channel, so each accepted channel is seen before it
 * is registered, before any TLS handshake or PROXY header, and before Vert.x calls the connect
 * handler. One gate per listener, shared by its verticle instances (Vert.x shares one server
 * channel between them).
 *
 * <p>What is counted when: at accept, every connection takes a slot of
 * {@code limits.max-connections} (it holds a descriptor from now on). On a direct listener it
 * also takes its address's slot of {@code max-connections-per-ip} and a token of
 * {@code connection-rate-per-ip} (and of {@code handshake-rate-per-ip} on implicit TLS), unless
 * the address is in {@code limits.trusted-networks}. On a
 * PROXY listener the accepted peer is a load balancer: an untrusted one is refused at once (it
 * may never send a header), a trusted one is exempt from the per-address limits, and the
 * client's address is counted as soon as the header names it, still before the TLS handshake
 * ({@link ProxyHeaderCheck}). Whatever is taken is given back when the channel closes
 * ({@link Admission}), exactly once.
 *
 * <p>A refusal is said in the protocol's words where the first bytes Postern sends are
 * plaintext (a listener without implicit TLS), once nothing stands before them (on a PROXY
 * listener: after the header): the connection goes on to the session layer marked refused,
 * holding no slot, and gets its goodbye line there at once. Otherwise (implicit TLS, a PROXY
 * listener before the header, a bad PROXY peer or header, descriptors running short) the
 * connection is reset at once.
 */
@ChannelHandler.Sharable
final class AcceptGate extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(AcceptGate.class);
  static final String NAME = "postern-accept-gate";
  private static final String FAILURES = "postern-accept-failures";
  private static final String HEADER_CHECK = "postern-proxy-header";

  private final ListenerConfig listener;
  /** Replaced by a configuration reload; read on the acceptor thread. */
  private volatile LimitsConfig limits;
  private final ListenerMeters meters;
  private final ConnectionLimits connections;
  private final AddressRates connectionRates;
  private final AddressRates handshakeRates;
  private final DescriptorBudget descriptors;
  private final EveryMinute untrustedWarning = new EveryMinute();
  private final EveryMinute acceptWarning = new EveryMinute();

  AcceptGate(SharedServices shared, ListenerConfig listener, ListenerMeters meters) {
    this.listener = listener;
    this.limits = shared.config().limits();
    this.meters = meters;
    this.connections = shared.limits();
    this.connectionRates = shared.connectionRates();
    this.handshakeRates = shared.handshakeRates();
    this.descriptors = shared.descriptors();
  }

  /** A reloaded configuration's limits, for connections accepted from now on. */
  void limits(LimitsConfig next) {
    this.limits = next;
  }

  /**
   * Puts {@code gate} first in the pipeline of {@code server}'s Netty server channel, unless a
   * gate is there already (another instance of the listener put its own, which works alike).
   * Call right after {@code listen} succeeded. Connections accepted in between (none, unless a
   * client races the start) meet the same limits in {@link #handOver}.
   *
   * @throws IllegalStateException when Vert.x's internals are not as this expects: a start-up
   *     error, never a listener running without its limits
   */
  static void install(NetServer server, AcceptGate gate) {
    ChannelPipeline pipeline = serverChannel(server).pipeline();
    synchronized (pipeline) {
      if (pipeline.get(AcceptGate.class) == null) {
        pipeline.addFirst(NAME, gate);
        pipeline.addLast(FAILURES, new AcceptFailures());
      }
    }
  }

  private static Channel serverChannel(NetServer server) {
    try {
      Class<?> impl = Class.forName("io.vertx.core.net.impl.NetServerImpl");
      Field actual = impl.getDeclaredField("actualServer");
      Field bind = impl.getDeclaredField("bindFuture");
      actual.setAccessible(true);
      bind.setAccessible(true);
      Object main = actual.get(impl.cast(server));
      Object bound = ((io.vertx.core.Future<?>) bind.get(main)).result();
      if (!(bound instanceof Channel channel) || !channel.isOpen()) {
        throw new IllegalStateException("no bound server channel, found " + bound);
      }
      return channel;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot apply the connection limits at accept"
          + " (Vert.x internals changed?): " + e, e);
    }
  }

  // ---- On the acceptor thread: each accepted channel, before it is registered.

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Channel child && !accepted(child)) {
      return;
    }
    ctx.fireChannelRead(msg);
  }

  /**
   * Netty pauses accepting for a second after a failed accept (ServerBootstrapAcceptor); this
   * says why, once a minute instead of every second, with the fix.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (acceptWarning.due()) {
      LOG.warn("listener {}: accepting failed, paused for a second: {}{}", listener.name(),
          cause.toString(), String.valueOf(cause.getMessage()).contains("open files")
              ? " (raise LimitNOFILE / ulimit -n, or lower limits.max-connections)" : "");
    }
    ctx.fireExceptionCaught(cause);
  }

  /** False when the connection was refused and closed here. */
  private boolean accepted(Channel child) {
    meters.accepted();
    Admission admission = new Admission(connections);
    if (descriptors.refuseNew()) {
      return refuse(child, admission, Rejection.DESCRIPTORS);
    }
    InetAddress peer = address(child.remoteAddress());
    Rejection why = peerLimits(admission, peer);
    if (why == null && !listener.proxyProtocol()) {
      why = clientLimits(admission, peer);
    }
    if (why != null) {
      return refuse(child, admission, why);
    }
    watch(child, admission);
    if (listener.proxyProtocol()) {
      child.pipeline().addLast(new ProxyHeaderPlacer(admission));
    }
    return true;
  }

  /** What the connection itself costs: a slot of max-connections; a PROXY peer's standing. */
  private Rejection peerLimits(Admission admission, InetAddress peer) {
    if (listener.proxyProtocol() && (peer == null || !limits.isTrusted(peer))) {
      if (untrustedWarning.due()) {
        // Once a minute at most: a flood from an untrusted address must not flood the log.
        LOG.warn("listener {}: connection from {}, which is not in limits.trusted-networks,"
            + " refused: only trusted load balancers may send PROXY headers", listener.name(),
            peer == null ? "an unknown peer" : Addresses.text(peer));
      }
      return Rejection.PROXY_HEADER;
    }
    return admission.takeTotal() ? null : Rejection.MAX_CONNECTIONS;
  }

  /**
   * The per-address limits of the client at {@code client}: its rates and its slot of
   * max-connections-per-ip. Trusted networks are exempt from all three (a webmail or a
   * balancer without PROXY speaks for many users); they still count toward max-connections.
   * Marks the client known.
   */
  private Rejection clientLimits(Admission admission, InetAddress client) {
    admission.clientKnown();
    if (client == null || limits.isTrusted(client)) {
      return null;
    }
    if (!connectionRates.tryTake(client)) {
      return Rejection.CONNECTION_RATE;
    }
    if (listener.tls() == TlsMode.IMPLICIT && !handshakeRates.tryTake(client)) {
      return Rejection.HANDSHAKE_RATE;
    }
    return admission.takeSource(client) ? null : Rejection.PER_IP;
  }

  /** Gives back what the admission holds when the channel closes, however it closes. */
  private void watch(Channel channel, Admission admission) {
    channel.attr(Admission.KEY).set(admission);
    channel.closeFuture().addListener(f -> {
      admission.release();
      if (!admission.knowsClient() && admission.refusal() == null) {
        // A PROXY connection that ended without a usable header: malformed, another
        // transport than TCP, or none before the handshake timeout.
        meters.rejected(Rejection.PROXY_HEADER);
      }
    });
  }

  /**
   * Counts the refusal; marks a connection that gets a goodbye line (true: pass it on), or
   * resets it (false). A reset leaves no TIME_WAIT behind and costs a flood its connection at
   * once.
   */
  private boolean refuse(Channel child, Admission admission, Rejection why) {
    meters.rejected(why);
    admission.refuse(why);
    // On a PROXY listener the goodbye could go out only after a header: until then the
    // connection would hold a descriptor and no slot.
    if (!listener.proxyProtocol() && saysGoodbye(why)) {
      child.attr(Admission.KEY).set(admission);
      return true;
    }
    reset(child);
    return false;
  }

  /** Whether a refusal for {@code why} is a protocol line rather than a reset. */
  boolean saysGoodbye(Rejection why) {
    return listener.tls() != TlsMode.IMPLICIT && why != Rejection.DESCRIPTORS
        && why != Rejection.PROXY_HEADER;
  }

  private static void reset(Channel channel) {
    try {
      channel.config().setOption(ChannelOption.SO_LINGER, 0);
    } catch (RuntimeException ignored) {
      // Closed already: nothing to reset.
    }
    if (channel.isRegistered()) {
      channel.close();
    } else {
      channel.unsafe().closeForcibly();
    }
  }

  private static InetAddress address(SocketAddress address) {
    return address instanceof InetSocketAddress inet ? inet.getAddress() : null;
  }

  // ---- On the connection's event loop, when Vert.x hands it to the listener.

  /**
   * The limits' word on a connection Vert.x hands over: null to start its session, or why it was
   * refused (then {@link #saysGoodbye} tells whether to say so or just close). A connection the
   * gate did not see (accepted before it was in place) meets every limit now; one whose client
   * the gate could not learn from a PROXY header meets the client's limits now.
   */
  Rejection handOver(Channel channel, InetAddress client) {
    Admission admission = Admission.of(channel);
    if (admission == null) {
      meters.accepted();
      admission = new Admission(connections);
      InetAddress peer = address(channel.remoteAddress());
      Rejection why = descriptors.refuseNew() ? Rejection.DESCRIPTORS
          : peerLimits(admission, peer);
      if (why != null) {
        meters.rejected(why);
        admission.refuse(why);
        return why;
      }
      watch(channel, admission);
    }
    if (admission.refusal() != null) {
      return admission.refusal();
    }
    if (!admission.knowsClient()) {
      Rejection why = clientLimits(admission, client);
      if (why != null) {
        meters.rejected(why);
        admission.refuse(why);
        return why;
      }
    }
    return null;
  }

  /**
   * Waits for the channel's registration, by which Vert.x has built its PROXY pipeline, and
   * puts a {@link ProxyHeaderCheck} right before Vert.x's completion handler: after the
   * decoder and its timeout, so it sees the header, a malformed one, and the timeout.
   */
  private final class ProxyHeaderPlacer extends ChannelInboundHandlerAdapter {
    private final Admission admission;

    ProxyHeaderPlacer(Admission admission) {
      this.admission = admission;
    }

    @Override
    public void channelRegistered(ChannelHandlerContext ctx) {
      ChannelPipeline pipeline = ctx.pipeline();
      ChannelHandlerContext completion = pipeline.context(HAProxyMessageCompletionHandler.class);
      if (completion != null) {
        pipeline.addBefore(completion.name(), HEADER_CHECK,
            new ProxyHeaderCheck(AcceptGate.this, admission));
      }
      // Without it (Vert.x built the pipeline otherwise), handOver applies the client's limits
      // after the header and the handshake: later, but never skipped.
      ctx.fireChannelRegistered();
      pipeline.remove(this);
    }
  }

  /** The client a PROXY header names meets its per-address limits here. */
  Rejection clientArrived(Admission admission, InetAddress client) {
    Rejection why = clientLimits(admission, client);
    if (why != null) {
      meters.rejected(why);
      admission.refuse(why);
    }
    return why;
  }

  /** Resets a connection refused after accept (a PROXY header's client over its limits). */
  static void close(Channel channel) {
    reset(channel);
  }

  /**
   * Last in the server channel's pipeline: takes the accept failures that the gate has already
   * reported, instead of Netty's warning for each one.
   */
  private static final class AcceptFailures extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Reported by the gate, at most once a minute.
    }
  }
}
