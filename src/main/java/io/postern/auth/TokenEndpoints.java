package io.postern.auth;

import io.postern.config.OAuth2Config;
import io.postern.tls.CertificatePair;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.nio.file.Files;

/** The HTTP side of the oauth2 source: client options for its issuer's endpoints. */
final class TokenEndpoints {

  /** How long an idle connection to the issuer is kept; shorter than common servers' limits. */
  static final int KEEP_ALIVE_SECONDS = 4;

  private TokenEndpoints() {}

  /**
   * Options for the JWKS or introspection endpoint: {@code ca} (read now: blocking, start-up
   * only) or the system's CAs, host names verified, connecting bounded by the timeout.
   */
  static HttpClientOptions options(OAuth2Config config) throws CertificatePair.CertificateProblem {
    HttpClientOptions options = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_1_1)
        .setKeepAlive(true)
        .setKeepAliveTimeout(KEEP_ALIVE_SECONDS)
        .setVerifyHost(true)
        .setConnectTimeout((int) config.timeout().toMillis())
        .setIdleTimeout((int) config.timeout().toMillis())
        .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
        .setMaxHeaderSize(16 * 1024);
    if (config.ca() != null) {
      try {
        byte[] pem = Files.readAllBytes(config.ca());
        CertificatePair.parseChainForTrust(config.ca(), pem);
        options.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(pem)));
      } catch (IOException e) {
        throw new CertificatePair.CertificateProblem("cannot read CA file " + config.ca());
      }
    }
    return options;
  }

  /** The body of {@code response}, failing once it grows past {@code max} bytes. */
  static Future<Buffer> body(HttpClientResponse response, int max) {
    Promise<Buffer> done = Promise.promise();
    Buffer body = Buffer.buffer();
    response.handler(chunk -> {
      if (body.length() + chunk.length() > max) {
        done.tryFail("answer larger than " + max + " bytes");
        response.request().reset();
      } else {
        body.appendBuffer(chunk);
      }
    });
    response.exceptionHandler(done::tryFail);
    response.endHandler(v -> done.tryComplete(body));
    return done.future();
  }

  /** A failure's text for the log, short, with {@code token} (if it ever shows) blanked. */
  static String describe(Throwable e, String token) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (token != null && !token.isEmpty()) {
      m = m.replace(token, "…");
    }
    return m.length() > 160 ? m.substring(0, 160) + "…" : m;
  }
}
