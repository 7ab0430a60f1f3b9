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

  AlpnCheckingSslContext(SslContext wrapped, AlpnPolicy policy) {
    this.wrapped = wrapped;
    this.policy = policy;
  }

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
    return wrapped.newEngine(alloc);
  }

  @Override
  public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
    return wrapped.newEngine(alloc, peerHost, peerPort);
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
