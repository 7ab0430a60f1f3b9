package io.postern.auth;

import io.postern.config.ThrottleStoreConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failure counts of every instance, in a Redis (or Valkey) by Vert.x's client: one small Lua
 * script counts a failure (INCR and PEXPIRE of the address's and the name's key, atomically),
 * another reads both, and DEL forgets them after a success.
 *
 * <p>Each call is given up after {@code redis-timeout}. A PING every {@link #CHECK} keeps the
 * state current on an instance without logins. The first call or PING that fails or times out
 * marks the store down, in one log line: from then on logins do not ask it (their penalty is
 * this instance's alone, with the shared counts last read), nor do new connections (their limit
 * per address is this instance's count alone), and the first PING answered brings
 * it back, said in one more line. More than {@link #MAX_IN_FLIGHT} calls at once for logins,
 * or for connections, are shed, not sent, without marking the store down. Every failed or shed
 * call is counted
 * ({@code postern_throttle_store_errors_total}); {@link #up} feeds
 * {@code postern_throttle_store_up}.
 */
public final class RedisFailures implements SharedFailures {

  private static final Logger LOG = LoggerFactory.getLogger(RedisFailures.class);

  /** How often the store is checked (PING), up or down. */
  static final Duration CHECK = Duration.ofSeconds(1);
  /**
   * The first check: it opens the first connection (and loads the client's classes), which on a
   * loaded machine outlasts a call's timeout, and a store "down" for that alone would be noise.
   */
  static final Duration FIRST_CHECK_TIMEOUT = Duration.ofSeconds(5);
  /** Connections to the store: a login costs one short call, a failure one more. */
  static final int MAX_CONNECTIONS = 8;
  /** Calls waiting for a connection beyond these would fail in the client. */
  static final int MAX_WAITING_CALLS = 256;
  /**
   * Calls of one kind unanswered at once beyond these are not sent: each fails at once with
   * {@link #notSent} true (counted as an error), and its login or connection goes on with this
   * instance's own count. Logins and connections each have this many, so that a burst of
   * connections (cheap, and no login) cannot crowd out the failure counts, and together they
   * stay within what the client takes ({@link #MAX_WAITING_CALLS}): a burst is shed here rather
   * than failed by the client, which would mark a store that answers "down".
   */
  public static final int MAX_IN_FLIGHT = MAX_WAITING_CALLS / 2;

  /** KEYS: address, user; ARGV: forget-after in ms. Returns both counts after this failure. */
  static final String COUNT_FAILURE = """
      local a = redis.call('INCR', KEYS[1])
      redis.call('PEXPIRE', KEYS[1], ARGV[1])
      local u = redis.call('INCR', KEYS[2])
      redis.call('PEXPIRE', KEYS[2], ARGV[1])
      return {a, u}""";
  /** KEYS: address, user. Returns both counts, 0 for none. */
  static final String READ_COUNTS = """
      return {tonumber(redis.call('GET', KEYS[1]) or '0'),
              tonumber(redis.call('GET', KEYS[2]) or '0')}""";

  private static final Exception BUSY = stackless("too many calls to the throttle store at once");
  private static final Exception SKIPPED = stackless("the throttle store is down");

  private final Vertx vertx;
  private final Redis client;
  private final String where;
  private final long timeoutMs;
  private final long forgetAfterMs;
  private final Runnable onError;
  private final AtomicBoolean up = new AtomicBoolean(true);
  private final AtomicBoolean checking = new AtomicBoolean();
  /** Unanswered calls of the login throttle, and of the connection counts. */
  private final AtomicInteger loginCalls = new AtomicInteger();
  private final AtomicInteger connectionCalls = new AtomicInteger();
  private volatile boolean closed;
  private volatile long downSince;
  private final long checkTimer;

  /**
   * A store at {@code config}'s URL; counts are forgotten {@code forgetAfter} after the last
   * failure; {@code onError} is told of every call that failed. Checks the store at once.
   */
  public RedisFailures(Vertx vertx, ThrottleStoreConfig config, Duration forgetAfter,
      Runnable onError) {
    this.vertx = vertx;
    this.where = config.where();
    this.timeoutMs = Math.max(1, config.timeout().toMillis());
    this.forgetAfterMs = Math.max(1, forgetAfter.toMillis());
    this.onError = onError;
    this.client = Redis.createClient(vertx, options(config));
    check(Math.max(timeoutMs, FIRST_CHECK_TIMEOUT.toMillis()));
    this.checkTimer = vertx.setPeriodic(CHECK.toMillis(), id -> check(timeoutMs));
  }

  static RedisOptions options(ThrottleStoreConfig config) {
    String scheme = URI.create(config.redisUrl()).getScheme().toLowerCase(Locale.ROOT);
    NetClientOptions net = new NetClientOptions()
        .setConnectTimeout((int) Math.max(1, config.timeout().toMillis()))
        .setTcpNoDelay(true);
    if (scheme.equals("rediss")) {
      // The JVM's CAs, and the URL's host name checked against the certificate.
      net.setSsl(true).setHostnameVerificationAlgorithm("HTTPS");
    }
    return new RedisOptions()
        .setConnectionString(config.redisUrl())
        .setNetClientOptions(net)
        .setMaxPoolSize(MAX_CONNECTIONS)
        .setMaxPoolWaiting(MAX_WAITING_CALLS)
        .setMaxWaitingHandlers(MAX_WAITING_CALLS);
  }

  @Override
  public Future<Counts> counts(String addressKey, String userKey) {
    return call(Request.cmd(Command.EVAL).arg(READ_COUNTS).arg(2)
        .arg(ThrottleKeys.address(addressKey)).arg(ThrottleKeys.user(userKey)),
        RedisFailures::counts, loginCalls);
  }

  @Override
  public Future<Counts> failed(String addressKey, String userKey) {
    return call(Request.cmd(Command.EVAL).arg(COUNT_FAILURE).arg(2)
        .arg(ThrottleKeys.address(addressKey)).arg(ThrottleKeys.user(userKey))
        .arg(forgetAfterMs), RedisFailures::counts, loginCalls);
  }

  @Override
  public void succeeded(String addressKey, String userKeyOrNull) {
    Request del = Request.cmd(Command.DEL).arg(ThrottleKeys.address(addressKey));
    if (userKeyOrNull != null) {
      del.arg(ThrottleKeys.user(userKeyOrNull));
    }
    call(del, r -> r, loginCalls);
  }

  /**
   * A call for the open connections of every instance (see {@code ClusterConnections}): like
   * the failure counts' own calls skipped while the store is down, given up after
   * {@code redis-timeout}, and a failure is counted and marks the store down (one log line for
   * both uses); shed beyond {@link #MAX_IN_FLIGHT} of its own.
   */
  public Future<Response> send(Request request) {
    return call(request, r -> r, connectionCalls);
  }

  /**
   * As {@link #send}, but never shed: for what must reach the store once something was counted
   * there (a give-back, a heartbeat), whose number is bounded by what was counted.
   */
  public Future<Response> sendUnshed(Request request) {
    return call(request, r -> r, null);
  }

  /** Whether {@code failure} is of a call that never reached the store (down, or shed). */
  public static boolean notSent(Throwable failure) {
    return failure == SKIPPED || failure == BUSY;
  }

  @Override
  public boolean up() {
    return up.get();
  }

  /** Where the store is, without a password, for logs. */
  public String where() {
    return where;
  }

  @Override
  public Future<Void> close() {
    closed = true;
    vertx.cancelTimer(checkTimer);
    return client.close();
  }

  /**
   * A call to the store, unless it is down or {@code budget} (null: none) has no room; bounded
   * by the timeout.
   */
  private <T> Future<T> call(Request request, Function<Response, T> answer,
      AtomicInteger budget) {
    if (closed || !up.get()) {
      return Future.failedFuture(SKIPPED);
    }
    if (budget != null && budget.incrementAndGet() > MAX_IN_FLIGHT) {
      budget.decrementAndGet();
      onError.run();
      return Future.failedFuture(BUSY);
    }
    Future<T> sent = send(request, answer, timeoutMs);
    if (budget != null) {
      sent = sent.andThen(ar -> budget.decrementAndGet());
    }
    return sent.onFailure(this::wentDown);
  }

  private <T> Future<T> send(Request request, Function<Response, T> answer, long timeout) {
    return client.send(request).timeout(timeout, TimeUnit.MILLISECONDS).map(answer);
  }

  /** A failure that is always the same, so it is made once and carries no stack. */
  private static Exception stackless(String message) {
    return new IllegalStateException(message) {
      private static final long serialVersionUID = 1L;

      @Override
      public synchronized Throwable fillInStackTrace() {
        return this;
      }
    };
  }

  private static Counts counts(Response r) {
    return new Counts(r.get(0).toLong(), r.get(1).toLong());
  }

  private void wentDown(Throwable e) {
    if (closed) {
      return;
    }
    onError.run();
    if (!up.compareAndSet(true, false)) {
      return;
    }
    downSince = System.nanoTime();
    LOG.warn("throttle store {} is down ({}); logins go on with this instance's penalty alone,"
        + " connections with its own count, until it answers again", where, problem(e));
  }

  /** One PING at a time; a failure marks the store down, an answer brings it back. */
  private void check(long timeout) {
    if (closed || !checking.compareAndSet(false, true)) {
      return;
    }
    send(Request.cmd(Command.PING), r -> r, timeout).onComplete(ar -> {
      checking.set(false);
      if (ar.failed()) {
        wentDown(ar.cause());
        return;
      }
      if (!closed && up.compareAndSet(false, true)) {
        LOG.info("throttle store {} answers again, after {}s down; failed logins and"
            + " connections count on every instance again", where,
            Duration.ofNanos(System.nanoTime() - downSince).toSeconds());
      }
    });
  }

  /** What went wrong, in words that carry no password. */
  private static String problem(Throwable e) {
    if (e instanceof java.util.concurrent.TimeoutException || e.getClass().getSimpleName()
        .contains("Timeout")) {
      return "no answer in time";
    }
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName()
        : message.replaceAll("[\\r\\n]", " ").replaceAll("//[^@/\\s]*@", "//");
  }
}
