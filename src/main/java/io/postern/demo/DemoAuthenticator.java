package io.postern.demo;

import io.postern.auth.AuthRequest;
import io.postern.auth.AuthResult;
import io.postern.auth.Authenticator;
import io.postern.credentials.Secret;
import io.postern.backend.Route;
import io.postern.config.PosternConfig;
import io.vertx.core.Future;

/** The demo account in front of the configured users (if any). */
final class DemoAuthenticator implements Authenticator {

  private static final Secret DEMO_PASSWORD = Secret.of(DemoMailbox.PASSWORD);

  private final Authenticator configured;

  DemoAuthenticator(Authenticator configured) {
    this.configured = configured;
  }

  @Override
  public String source() {
    return "demo";
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    if (DemoMailbox.USER.equals(request.credentials().user())) {
      return Future.succeededFuture(DEMO_PASSWORD.equals(request.credentials().password())
          ? new AuthResult.Accepted(Route.to(PosternConfig.DEFAULT_BACKEND), DemoMailbox.USER,
              DEMO_PASSWORD)
          : AuthResult.Rejected.badCredentials());
    }
    return configured == null ? Future.succeededFuture(AuthResult.Rejected.badCredentials())
        : configured.authenticate(request);
  }

  @Override
  public Future<Void> close() {
    return configured == null ? Future.succeededFuture() : configured.close();
  }
}
