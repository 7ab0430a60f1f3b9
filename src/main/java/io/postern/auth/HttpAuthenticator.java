package io.postern.auth;

import io.postern.config.AuthConfig;
import io.postern.tls.CertificatePair;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The nginx {@code auth_http} protocol, spoken better than nginx: one pooled keep-alive client
 * for every event loop, {@code https://} with certificate checks, several URLs tried in order,
 * and a deadline on each request. Any answer that is not a clear yes or no (a dead or slow
 * service, garbage) is {@link AuthResult.Unavailable}: a temporary failure, never a login. A URL
 * that failed is skipped for a while ({@link ServiceUrls}), so that a dead primary does not cost
 * every login its timeout.
 */
public final class HttpAuthenticator implements Authenticator {

  private static final Logger LOG = LoggerFactory.getLogger(HttpAuthenticator.class);

  /** How often a {@code WAIT} answer is honoured for one login before giving up. */
  static final int MAX_WAITS = 3;
  /** Bodies are ignored, as nginx does; one bigger than this ends the connection. */
  static final int MAX_BODY = 64 * 1024;
  /** Connections per service URL; logins beyond these wait in a bounded queue. */
  static final int POOL_SIZE = 64;
  /** How long an idle connection to the service is kept. */
  static final int KEEP_ALIVE_SECONDS = 4;

  private final Vertx vertx;
  private final AuthConfig.Http config;
  private final Set<String> backends;
  private final HttpClient client;
  private final ServiceUrls urls;

  private HttpAuthenticator(Vertx vertx, AuthConfig.Http config, Set<String> backends,
      HttpClient client, LongSupplier clock) {
    this.vertx = vertx;
    this.config = config;
    this.backends = Set.copyOf(backends);
    this.client = client;
    // One exchange may send its request twice (a kept-alive connection found closed).
    this.urls = new ServiceUrls(config.urls(), config.urlBackoff(), config.urlBackoffMax(),
        config.timeout().multipliedBy(2).plusSeconds(1), clock);
  }

  /** Reads the CA file, if any (blocking: start-up only). */
  public static HttpAuthenticator create(Vertx vertx, AuthConfig.Http config,
      Set<String> backends) throws CertificatePair.CertificateProblem {
    return create(vertx, config, backends, System::nanoTime);
  }

  /** With {@code clock} (nanoseconds) timing the URLs' back-off. */
  static HttpAuthenticator create(Vertx vertx, AuthConfig.Http config, Set<String> backends,
      LongSupplier clock) throws CertificatePair.CertificateProblem {
    HttpClientOptions options = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_1_1)
        .setKeepAlive(true)
        // Shorter than the idle limits of common servers (Node 5 s, nginx 75 s), so that Postern,
        // not the service, closes an idle connection.
        .setKeepAliveTimeout(KEEP_ALIVE_SECONDS)
        .setVerifyHost(true)
        .setConnectTimeout((int) config.timeout().toMillis())
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
    PoolOptions pool = new PoolOptions().setHttp1MaxSize(POOL_SIZE).setMaxWaitQueueSize(10_000);
    return new HttpAuthenticator(vertx, config, backends, vertx.createHttpClient(options, pool),
        clock);
  }

  @Override
  public String source() {
    return "http";
  }

  /** Tokens go to the service as nginx's derivatives send them: see {@link AuthHttpRequest}. */
  @Override
  public boolean verifiesTokens() {
    return true;
  }

  /** The service gets nginx's {@code Auth-Method: external} and the certificate's headers. */
  @Override
  public boolean decidesExternal() {
    return true;
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    return ask(request, urls.order(), 0, 0, null);
  }

  /** Whether logins ask {@code url} (one of the configured URLs) first: not backed off. */
  public boolean up(String url) {
    return urls.up(url);
  }

  /** The configured URLs, in order. */
  public List<String> urls() {
    return config.urls();
  }

  /**
   * Reachable when one URL gives any HTTP answer to a {@code HEAD} (which asks about no user, so
   * the service logs no failed login), within the timeout. The URLs are asked as a login would
   * ask them, so a backed-off URL whose time has come is probed here rather than by a customer's
   * login: an answer below 500 brings it back, no answer keeps it down.
   */
  @Override
  public Future<Void> ready() {
    return reachable(urls.order(), 0, false);
  }

  private Future<Void> reachable(List<String> order, int index, boolean asked) {
    if (index >= order.size()) {
      return Future.failedFuture("no auth service URL answers");
    }
    String url = order.get(index);
    if (!urls.take(url) && (asked || index < order.size() - 1)) {
      return reachable(order, index + 1, asked);
    }
    return head(url).transform(ar -> {
      if (ar.failed()) {
        return reachable(order, index + 1, true);
      }
      // The URLs after this one are not needed now; those down whose time has come are
      // probed all the same, so that their state (and the metric) follows the service even
      // while logins never get as far as them.
      for (String later : order.subList(index + 1, order.size())) {
        if (!urls.up(later) && urls.take(later)) {
          head(later);
        }
      }
      return Future.succeededFuture();
    });
  }

  /**
   * A {@code HEAD} to {@code url}, reported to {@link #urls}: an answer below 500 makes it up,
   * no answer down. A 5xx says nothing either way (a script may not handle {@code HEAD}): the
   * next login probes it. Succeeds with any HTTP answer: the service is reachable.
   */
  private Future<Integer> head(String url) {
    return client.request(new RequestOptions().setMethod(HttpMethod.HEAD).setAbsoluteURI(url)
            .setConnectTimeout(config.timeout().toMillis())
            .setIdleTimeout(config.timeout().toMillis()))
        .compose(r -> r.send())
        .compose(response -> response.end().map(v -> response.statusCode()))
        .andThen(ar -> {
          if (ar.failed()) {
            urls.failed(url, describe(ar.cause()));
          } else if (ar.result() < 500) {
            urls.succeeded(url);
          } else {
            urls.release(url);
          }
        });
  }

  @Override
  public Future<Void> close() {
    return client.close();
  }

  /**
   * Asks URL {@code index} of {@code order}; on a failure of the service itself, the next one.
   */
  private Future<AuthResult> ask(AuthRequest request, List<String> order, int index, int waits,
      String lastProblem) {
    if (index >= order.size()) {
      return Future.succeededFuture(new AuthResult.Unavailable("no auth service answered ("
          + lastProblem + ")"));
    }
    String url = order.get(index);
    if (!urls.take(url) && (lastProblem != null || index < order.size() - 1)) {
      // Down, or being probed by another login; the last one is asked when none was.
      return ask(request, order, index + 1, waits, lastProblem);
    }
    return exchange(url, request).transform(ar -> {
      if (ar.failed()) {
        String problem = where(url) + ": " + describe(ar.cause());
        LOG.warn("auth service {}", problem);
        urls.failed(url, describe(ar.cause()));
        return ask(request, order, index + 1, waits, problem);
      }
      AuthHttpAnswer answer = AuthHttpAnswer.parse(ar.result(), request.credentials(),
          request.secretMechanism(), backends);
      if (answer instanceof AuthHttpAnswer.Malformed malformed) {
        String problem = where(url) + " gave a malformed answer: " + malformed.why();
        LOG.warn("auth service {}", problem);
        if (ar.result().contains("Auth-Status")) {
          // An answer with a field out of place: most likely one user's data, not a service that
          // is down; the next URL is asked all the same, as before.
          urls.succeeded(url);
        } else {
          // No auth answer at all: an error page, a proxy in front that lost its service.
          urls.failed(url, "malformed answer: " + malformed.why());
        }
        return ask(request, order, index + 1, waits, problem);
      }
      urls.succeeded(url);
      if (answer instanceof AuthHttpAnswer.Ok ok) {
        return Future.succeededFuture(ok.accepted());
      }
      if (answer instanceof AuthHttpAnswer.Failed failed) {
        return Future.succeededFuture(new AuthResult.Rejected(null, failed.delay(),
            failed.text()));
      }
      if (answer instanceof AuthHttpAnswer.Wait wait) {
        if (waits >= MAX_WAITS) {
          return Future.succeededFuture(new AuthResult.Unavailable(where(url)
              + " answered WAIT " + (waits + 1) + " times"));
        }
        Promise<AuthResult> later = Promise.promise();
        vertx.setTimer(wait.delay().toMillis(), id ->
            ask(request, urls.order(), 0, waits + 1, lastProblem).onComplete(later));
        return later.future();
      }
      throw new IllegalStateException("unknown answer " + answer);
    });
  }

  /**
   * One exchange, asked a second time when a kept-alive connection turned out to be closed
   * before any answer came: the service may drop idle connections just as one is reused, and a
   * {@code GET} may be repeated.
   */
  private Future<MultiMap> exchange(String url, AuthRequest request) {
    return send(url, request).recover(e -> e instanceof HttpClosedException
        ? send(url, request) : Future.failedFuture(e));
  }

  /**
   * One request with one deadline, covering the wait for a pooled connection, the answer and the
   * (discarded) body. When the deadline passes, the request is reset wherever it is, so that a
   * slow or stuck service cannot keep the pool's connections.
   */
  private Future<MultiMap> send(String url, AuthRequest request) {
    long timeout = config.timeout().toMillis();
    Promise<MultiMap> answer = Promise.promise();
    AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
    long deadline = vertx.setTimer(timeout, id -> {
      answer.tryFail("no answer within " + timeout + "ms");
      HttpClientRequest r = sent.get();
      if (r != null) {
        r.reset();
      }
    });
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setAbsoluteURI(url).setFollowRedirects(false)
        .setConnectTimeout(timeout).setIdleTimeout(timeout);
    AuthHttpRequest.headers(request, config.headers()).forEach(options::putHeader);
    client.request(options)
        .compose(r -> {
          if (answer.future().isComplete()) {
            // The login gave up while this waited for a connection: do not send it at all.
            r.reset();
            return Future.failedFuture("abandoned");
          }
          sent.set(r);
          return r.send();
        })
        .onFailure(e -> {
          vertx.cancelTimer(deadline);
          answer.tryFail(e);
        })
        .onSuccess(response -> {
          int[] body = {0};
          response.handler(chunk -> {
            body[0] += chunk.length();
            if (body[0] > MAX_BODY) {
              sent.get().reset();
            }
          });
          response.exceptionHandler(e -> vertx.cancelTimer(deadline));
          // The body must be read to its end for the connection to be reused; the deadline
          // still holds for that.
          response.endHandler(v -> vertx.cancelTimer(deadline));
          // The headers are the answer.
          answer.tryComplete(response.headers());
        });
    return answer.future();
  }

  /** The URL without query, for logs (the config allows no user information in it). */
  public static String where(String url) {
    URI uri = URI.create(url);
    return uri.getScheme() + "://" + uri.getRawAuthority()
        + (uri.getRawPath() == null ? "" : uri.getRawPath());
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    // Vert.x's plain failures ("no answer within ...") need no class name.
    String kind = "NoStackTraceThrowable".equals(e.getClass().getSimpleName()) && m != null ? ""
        : e.getClass().getSimpleName() + (m == null ? "" : " ");
    return kind + (m == null ? "" : m.length() > 120 ? m.substring(0, 120) : m);
  }
}
