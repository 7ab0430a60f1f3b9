package io.postern.testing;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.Authenticator;
import io.vertx.core.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Passes every request on and counts them: "the auth source was never asked" is testable. A test
 * holds one from the start and puts it around the fixture's authenticator when that is built:
 * {@code builder.wrapAuthenticator(auth::around)}.
 */
public final class CountingAuthenticator implements Authenticator {

  private final AtomicInteger calls = new AtomicInteger();
  private volatile Authenticator delegate;

  /** Counts the requests to {@code authenticator} from now on; returns this. */
  public CountingAuthenticator around(Authenticator authenticator) {
    this.delegate = authenticator;
    return this;
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
