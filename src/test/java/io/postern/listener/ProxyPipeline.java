package io.postern.listener;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.Promise;
import io.postern.net.Addresses;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.HAProxyMessageCompletionHandler;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline Vert.x's NetServerImpl builds for {@code setUseProxyProtocol(true)} (Netty's
 * decoder, the PROXY timeout, Vert.x's completion handler), on an embedded channel whose clock
 * the test moves, followed by what {@link ListenerVerticle} makes of the result.
 */
final class ProxyPipeline {

  /** The listener's PROXY timeout (limits.handshake-timeout); any value does on this clock. */
  static final long TIMEOUT_SECONDS = 10;

  private static final HexFormat HEX = HexFormat.of();

  private ProxyPipeline() {}

  /**
   * What came of the bytes. {@code verdict}: "refused" (and whether {@code counted} as a PROXY
   * refusal by {@code ListenerVerticle.isProxyHeaderProblem}), "accepted", or "pending".
   * {@code closed}: whether the connection is closed once the PROXY timeout has passed (Netty
   * closes at once on most refusals, not all: the timeout covers the rest). For an accepted
   * header: its protocol
   * and source, the client address the listener reads ("none": it closes the connection), and
   * the bytes the session got, in hex.
   */
  record Outcome(String verdict, boolean counted, boolean closed, String protocol, String source,
      String client, String payload) {}

  static Outcome feed(List<byte[]> pieces) {
    TrackingAllocator allocator = new TrackingAllocator();
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.freezeTime();
    channel.config().setAllocator(allocator);
    Promise<Channel> header = channel.eventLoop().newPromise();
    HeaderSpy spy = new HeaderSpy();
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    channel.pipeline().addLast(new HAProxyMessageDecoder());
    channel.pipeline().addLast("idle", new IdleStateHandler(0, 0, TIMEOUT_SECONDS,
        TimeUnit.SECONDS));
    channel.pipeline().addLast(spy, new HAProxyMessageCompletionHandler(header),
        new ChannelInboundHandlerAdapter() {
          @Override
          public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // The end of Vert.x's pipeline logs these. After a refused header, Netty's decoder
            // reads what follows as another header when the connection closes, and Vert.x's
            // handler, already failed, then throws "complete already": nothing comes of it.
          }
        });
    // As NetServerImpl: only an accepted header gets the rest of the pipeline (the session).
    header.addListener(done -> {
      if (done.isSuccess()) {
        channel.pipeline().remove("idle");
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            payload.writeBytes(ByteBufUtil.getBytes(buf));
            buf.release();
          }
        });
      }
    });
    for (byte[] piece : pieces) {
      if (!channel.isOpen()) {
        break;
      }
      channel.writeInbound(allocator.buffer(piece.length).writeBytes(piece));
    }
    channel.advanceTimeBy(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    channel.runScheduledPendingTasks();
    boolean closed = !channel.isOpen();

    Outcome outcome;
    if (!header.isDone()) {
      outcome = new Outcome("pending", false, closed, null, null, null,
          HEX.formatHex(payload.toByteArray()));
    } else if (!header.isSuccess()) {
      outcome = new Outcome("refused", ListenerVerticle.isProxyHeaderProblem(header.cause()),
          closed, null, null, null, HEX.formatHex(payload.toByteArray()));
    } else {
      SocketAddress remote = channel.attr(ConnectionBase.REMOTE_ADDRESS_OVERRIDE).get();
      // As ListenerVerticle.accepted reads the client: null closes the connection.
      InetAddress client = remote == null ? null : Addresses.literal(remote.hostAddress());
      outcome = new Outcome("accepted", false, closed,
          spy.protocol == null ? null : spy.protocol.name(), spy.source,
          client == null ? "none" : Addresses.text(client), HEX.formatHex(payload.toByteArray()));
    }
    channel.finishAndReleaseAll();
    allocator.checkAllReleased();
    return outcome;
  }

  /** Notes the decoded header on its way to Vert.x's handler. */
  private static final class HeaderSpy extends ChannelInboundHandlerAdapter {
    HAProxyProxiedProtocol protocol;
    String source;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HAProxyMessage message) {
        protocol = message.proxiedProtocol();
        source = message.sourceAddress();
      }
      ctx.fireChannelRead(msg);
    }
  }

  /** Hands out unpooled buffers and checks at the end that every one was released. */
  private static final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> buffers = new ArrayList<>();

    TrackingAllocator() {
      super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    private ByteBuf track(ByteBuf buf) {
      buffers.add(buf);
      return buf;
    }

    void checkAllReleased() {
      for (ByteBuf buf : buffers) {
        assertEquals(0, buf.refCnt(), "a buffer never released: leaked with every connection");
      }
    }
  }
}
