package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.ImmediateExecutor;
import io.postern.it.RealParts;
import io.postern.testing.TestTls;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The handler on raw bytes, for both engines: the exact alert record a refused client gets, that
 * the engine never sees its ClientHello, and that an accepted one reaches the engine whole.
 */
class AlpnCheckingSslHandlerTest {

  private static final AlpnPolicy IMAP = new AlpnPolicy("imap", "test");

  private static SSLEngine serverEngine(SslProvider provider) throws Exception {
    if (provider == SslProvider.OPENSSL && !OpenSsl.isAvailable()) {
      RealParts.missing("netty-tcnative (OpenSSL engine) cannot load on this platform");
    }
    TestTls tls = TestTls.shared("localhost");
    return SslContextBuilder.forServer(tls.certPath().toFile(), tls.keyPath().toFile())
        .sslProvider(provider).build().newEngine(io.netty.buffer.ByteBufAllocator.DEFAULT);
  }

  /** Records the handshake outcome the handlers after TLS (Vert.x's) are told. */
  private static final class Outcome extends ChannelInboundHandlerAdapter {
    final List<SslHandshakeCompletionEvent> events = new ArrayList<>();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof SslHandshakeCompletionEvent e) {
        events.add(e);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL"})
  void aForeignOfferShouldGetExactlyTheFatalAlertAndTheClose(SslProvider provider)
      throws Exception {
    Outcome outcome = new Outcome();
    EmbeddedChannel channel = new EmbeddedChannel(new AlpnCheckingSslHandler(
        serverEngine(provider), false, ImmediateExecutor.INSTANCE, IMAP), outcome);
    byte[] hello = ClientHelloReaderTest.clientHello("http/1.1");
    // In two segments: the verdict waits for the whole ClientHello.
    channel.writeInbound(Unpooled.wrappedBuffer(hello, 0, 10));
    assertThat((Object) channel.readOutbound()).isNull();
    assertThat(channel.isOpen()).isTrue();
    channel.writeInbound(Unpooled.wrappedBuffer(hello, 10, hello.length - 10));

    ByteBuf alert = channel.readOutbound();
    assertThat(ByteBufUtil.hexDump(alert)).isEqualTo("15030300020278"); // fatal, 120
    alert.release();
    assertThat((Object) channel.readOutbound()).as("nothing after the alert").isNull();
    assertThat(channel.isOpen()).isFalse();
    assertThat(outcome.events).hasSize(1);
    assertThat(outcome.events.get(0).cause()).isInstanceOf(AlpnRefusal.class)
        .hasMessage("no_application_protocol: the client offered ALPN [http/1.1], not imap");
  }

  @ParameterizedTest
  @EnumSource(value = SslProvider.class, names = {"JDK", "OPENSSL"})
  void anOfferWithTheProtocolShouldReachTheEngine(SslProvider provider) throws Exception {
    EmbeddedChannel channel = new EmbeddedChannel(new AlpnCheckingSslHandler(
        serverEngine(provider), false, ImmediateExecutor.INSTANCE, IMAP));
    byte[] hello = ClientHelloReaderTest.refragment(
        ClientHelloReaderTest.clientHello("http/1.1", "imap"), 100);
    channel.writeInbound(Unpooled.wrappedBuffer(hello));
    ByteBuf serverHello = channel.readOutbound();
    // A handshake record (22): the engine read the ClientHello and answers with its ServerHello.
    assertThat(serverHello.getUnsignedByte(0)).isEqualTo((short) 22);
    assertThat(serverHello.getUnsignedByte(5)).as("ServerHello").isEqualTo((short) 2);
    serverHello.release();
    assertThat(channel.isOpen()).isTrue();
    channel.finishAndReleaseAll();
  }
}
