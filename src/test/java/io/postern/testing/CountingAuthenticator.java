package io.postern.testing;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.Authenticator;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicInteger;

/** Passes every request on and counts them: "the auth source was never asked" is testable. */
public final class CountingAuthenticator implements Authenticator {

  private final Authenticator delegate;
  private final AtomicInteger calls = new AtomicInteger();

  public CountingAuthenticator(Authenticator delegate) {
    this.delegate = delegate;
  }

  public void reset() {
    calls.set(0);
  }

  public int calls() {
    return calls.get();
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    calls.incrementAndGet();
    return delegate.authenticate(request);
  }

  @Override
  public String source() {
    return delegate.source();
  }

  @Override
  public Future<Void> ready() {
    return delegate.ready();
  }

  @Override
  public Future<Void> close() {
    return delegate.close();
  }
}
