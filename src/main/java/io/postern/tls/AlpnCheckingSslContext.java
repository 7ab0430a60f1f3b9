package io.postern.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ImmediateExecutor;
import java.util.List;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSessionContext;

/**
 * A server {@link SslContext} whose handlers are {@link AlpnCheckingSslHandler}s; everything else
 * is the wrapped context's. Vert.x wraps the context its {@code SslContextFactory} creates and
 * asks the wrapped one for every handler, so this is where the check enters every pipeline
 * ({@link AlpnGuardCheck} proves at start-up that it still does).
 */
final class AlpnCheckingSslContext extends SslContext {

  private final SslContext wrapped;
  private final AlpnPolicy policy;
  private final boolean jdkSelects;

  /**
   * {@code jdkSelects}: the engines are the JDK's, and each gets the JDK's own ALPN selector
   * (Netty's ALPN wrapper for JDK engines would load BouncyCastle on an event loop, for seconds,
   * to ask whether it is the TLS provider).
   */
  AlpnCheckingSslContext(SslContext wrapped, AlpnPolicy policy, boolean jdkSelects) {
    this.wrapped = wrapped;
    this.policy = policy;
    this.jdkSelects = jdkSelects;
  }

  // Netty's own handlers also carry a resumption controller, used only to re-check client
  // certificates on resumed sessions; Postern asks clients for none.

  @Override
  protected SslHandler newHandler(ByteBufAllocator alloc, boolean startTls) {
    return newHandler(alloc, startTls, ImmediateExecutor.INSTANCE);
  }

  @Override
  protected SslHandler newHandler(ByteBufAllocator alloc, boolean startTls, Executor executor) {
    return new AlpnCheckingSslHandler(newEngine(alloc), startTls, executor, policy);
  }

  @Override
  protected SslHandler newHandler(ByteBufAllocator alloc, String peerHost, int peerPort,
      boolean startTls) {
    return newHandler(alloc, peerHost, peerPort, startTls, ImmediateExecutor.INSTANCE);
  }

  @Override
  protected SslHandler newHandler(ByteBufAllocator alloc, String peerHost, int peerPort,
      boolean startTls, Executor executor) {
    return new AlpnCheckingSslHandler(newEngine(alloc, peerHost, peerPort), startTls, executor,
        policy);
  }

  @Override
  public boolean isClient() {
    return wrapped.isClient();
  }

  @Override
  public List<String> cipherSuites() {
    return wrapped.cipherSuites();
  }

  @Override
  @SuppressWarnings("deprecation")
  public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
    return wrapped.applicationProtocolNegotiator();
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc) {
    return selecting(wrapped.newEngine(alloc));
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
    return selecting(wrapped.newEngine(alloc, peerHost, peerPort));
  }

  /**
   * Selects the listener's protocol when the client offers it. Anything else never reaches the
   * engine (the handler refuses it first); were it to, null makes the JDK refuse it too.
   */
  private SSLEngine selecting(SSLEngine engine) {
    if (jdkSelects) {
      String protocol = policy.protocol();
      engine.setHandshakeApplicationProtocolSelector(
          (e, offered) -> offered.contains(protocol) ? protocol : null);
    }
    return engine;
  }

  @Override
  public SSLSessionContext sessionContext() {
    return wrapped.sessionContext();
  }

  @Override
  public long sessionCacheSize() {
    return wrapped.sessionCacheSize();
  }

  @Override
  public long sessionTimeout() {
    return wrapped.sessionTimeout();
  }
}
