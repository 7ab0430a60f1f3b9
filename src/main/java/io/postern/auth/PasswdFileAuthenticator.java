package io.postern.auth;

import io.postern.backend.Route;
import io.postern.config.AuthConfig;
import io.postern.config.ConfigError;
import io.postern.config.Durations;
import io.postern.config.PosternConfig;
import io.postern.config.Sizes;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks users against a Dovecot-style passwd-file. Hashing waits its turn in a
 * {@link HashingQueue} and runs on its threads. The file is re-read when its size or
 * modification time changes; a file that no longer parses is refused and the previous contents
 * stay in force (never a window where everyone fails, or everyone passes).
 */
public final class PasswdFileAuthenticator implements Authenticator {

  private static final Logger LOG = LoggerFactory.getLogger(PasswdFileAuthenticator.class);
  static final Duration CHECK_INTERVAL = Duration.ofSeconds(2);

  private final Vertx vertx;
  private final Path file;
  private final Set<String> backends;
  private final HashingQueue hashing;
  private final AtomicReference<Loaded> current;
  private final String unknownUserHash;
  private final long timer;
  private final java.util.concurrent.atomic.AtomicInteger refusedReloads =
      new java.util.concurrent.atomic.AtomicInteger();

  private record Version(long modified, long size) {}

  private record Loaded(PasswdFile users, Version version, String standIn) {
    Loaded(PasswdFile users, Version version) {
      this(users, version, users.entries().stream().map(PasswdEntry::password)
          .filter(p -> p != null && !p.isEmpty()).findFirst().orElse(null));
    }
  }

  private static final Version MISSING = new Version(-1, -1);
  private volatile Version refused;
  private volatile Runnable onChange = () -> { };

  private PasswdFileAuthenticator(Vertx vertx, Path file, Set<String> backends,
      HashingQueue hashing, Loaded first) {
    this.vertx = vertx;
    this.file = file;
    this.backends = Set.copyOf(backends);
    this.hashing = hashing;
    this.current = new AtomicReference<>(first);
    // For a file without any password: a well-formed hash nobody knows the password of.
    this.unknownUserHash = "{SHA512-CRYPT}"
        + org.apache.commons.codec.digest.Crypt.crypt(java.util.UUID.randomUUID().toString(),
            "$6$" + Long.toHexString(System.nanoTime()));
    this.timer = vertx.setPeriodic(CHECK_INTERVAL.toMillis(), id -> reloadIfChanged());
  }

  /** Reads the file (on a worker); fails with a message naming the bad line. */
  public static Future<PasswdFileAuthenticator> load(Vertx vertx, Path file,
      Set<String> backends, HashingQueue hashing) {
    return read(vertx, file, backends)
        .map(loaded -> new PasswdFileAuthenticator(vertx, file, backends, hashing, loaded))
        .andThen(ar -> {
          if (ar.failed()) {
            hashing.close();
          }
        });
  }

  /** With the default hashing limits, no trusted networks. */
  public static Future<PasswdFileAuthenticator> load(Vertx vertx, Path file,
      Set<String> backends) {
    return load(vertx, file, backends,
        new HashingQueue(vertx, AuthConfig.Hashing.DEFAULT, address -> false));
  }

  @Override
  public void onChange(Runnable action) {
    this.onChange = action;
  }

  @Override
  public String source() {
    return "passwd-file";
  }

  @Override
  public Future<AuthResult> authenticate(AuthRequest request) {
    Credentials credentials = request.credentials();
    Loaded loaded = current.get();
    PasswdEntry entry = loaded.users().find(credentials.user()).orElse(null);
    // An unknown user costs a check against a real user's hash: same scheme, same cost, so the
    // answer's timing does not tell which names exist. The result is ignored (entry == null).
    String stored = entry != null ? entry.password()
        : loaded.standIn() != null ? loaded.standIn() : unknownUserHash;
    return hashing.verify(request.clientIp(), credentials.user(), stored, credentials.password())
        .map(ok -> entry != null && ok ? accept(entry, credentials) : AuthResult.Rejected
            .badCredentials())
        .otherwise(e -> {
          if (e instanceof HashingQueue.Refused refused) {
            return new AuthResult.Unavailable(refused.getMessage());
          }
          LOG.error("passwd-file: verifying a password failed: {}", e.getClass().getSimpleName());
          return new AuthResult.Unavailable("password check failed");
        });
  }

  /** The user's entry as it is now: no password is checked, none is handed on. */
  @Override
  public Future<AuthResult> lookup(AuthRequest request) {
    String user = request.credentials().user();
    PasswdEntry entry = current.get().users().find(user).orElse(null);
    if (entry == null) {
      return Future.succeededFuture(new AuthResult.Rejected(null, Duration.ZERO, "unknown user"));
    }
    AuthResult found = accept(entry, request.credentials());
    return Future.succeededFuture(found instanceof AuthResult.Accepted a
        ? new AuthResult.Accepted(a.route(), a.backendUser(), null) : found);
  }

  /** The queue this file's checks wait in (a master file shares its source's). */
  public HashingQueue hashing() {
    return hashing;
  }

  @Override
  public Future<Void> close() {
    vertx.cancelTimer(timer);
    return hashing.close();
  }

  /** The memory one check of the costliest hash in the file takes (Argon2's; 0 for the rest). */
  public long largestCheckMemory() {
    long most = 0;
    for (PasswdEntry entry : current.get().users().entries()) {
      if (!entry.password().isEmpty()) {
        most = Math.max(most, PasswordSchemes.cost(entry.password()).memoryBytes());
      }
    }
    return most;
  }

  /**
   * The users whose hashes the limits cannot afford: a memory cost over
   * {@code auth.hashing.max-memory} (their logins always fail, temporarily), or, when
   * {@code measure} is set, a check that takes longer than {@code auth.failure-delay} (their
   * failed logins are answered late, which tells their names apart). Each kind of hash (scheme
   * and cost parameters) is timed once, with a wrong password. Blocking when measuring.
   */
  public List<ConfigError> costProblems(AuthConfig auth, boolean measure) {
    Map<String, List<PasswdEntry>> byCost = new LinkedHashMap<>();
    for (PasswdEntry entry : current.get().users().entries()) {
      if (!entry.password().isEmpty()) {
        byCost.computeIfAbsent(PasswordSchemes.cost(entry.password()).label(),
            k -> new ArrayList<>()).add(entry);
      }
    }
    List<ConfigError> problems = new ArrayList<>();
    for (Map.Entry<String, List<PasswdEntry>> kind : byCost.entrySet()) {
      List<PasswdEntry> users = kind.getValue();
      String stored = users.get(0).password();
      String who = file + " line " + users.get(0).line()
          + (users.size() > 1 ? " and " + (users.size() - 1) + " more users" : "") + ": "
          + kind.getKey();
      long memory = PasswordSchemes.cost(stored).memoryBytes();
      if (memory > auth.hashing().maxMemory()) {
        problems.add(new ConfigError("auth.hashing.max-memory", who + " needs "
            + Sizes.format(memory) + " per check, more than the "
            + Sizes.format(auth.hashing().maxMemory()) + " allowed: these users cannot log in"
            + " (temporary failure); raise max-memory and the heap, or rehash"));
      } else if (measure) {
        Duration took = timeOneCheck(stored);
        if (took.compareTo(auth.failureDelay()) > 0) {
          problems.add(new ConfigError("auth.failure-delay", who + " takes "
              + took.toMillis() + " ms per check, longer than failure-delay ("
              + Durations.format(auth.failureDelay()) + "): failed logins for these users are"
              + " answered later than others', which tells their names apart; raise"
              + " failure-delay or use a cheaper hash"));
        }
      }
    }
    return problems;
  }

  /** The faster of two checks with a wrong password (the first also warms the code up). */
  private static Duration timeOneCheck(String stored) {
    long best = Long.MAX_VALUE;
    for (int i = 0; i < 2; i++) {
      long start = System.nanoTime();
      PasswordSchemes.verify(stored, Secret.of("postern-cost-check"));
      best = Math.min(best, System.nanoTime() - start);
    }
    return Duration.ofNanos(best);
  }

  public int users() {
    return current.get().users().size();
  }

  /** How many times a changed file was refused (it did not parse); the old one stayed. */
  public int refusedReloads() {
    return refusedReloads.get();
  }

  private AuthResult accept(PasswdEntry entry, Credentials credentials) {
    if (entry.nologin()) {
      return new AuthResult.Rejected(
          entry.reason() == null ? "This account is disabled." : entry.reason(), Duration.ZERO);
    }
    Route route = Route.to(entry.backend() == null ? PosternConfig.DEFAULT_BACKEND
        : entry.backend());
    if (entry.host() != null) {
      route = route.withHost(entry.host());
    }
    String backendUser = entry.destuser() == null ? credentials.user() : entry.destuser();
    Secret backendPassword = entry.pass() == null ? credentials.password() : entry.pass();
    return new AuthResult.Accepted(route, backendUser, backendPassword);
  }

  private void reloadIfChanged() {
    Loaded before = current.get();
    vertx.fileSystem().props(file.toString()).onComplete(ar -> {
      if (ar.failed()) {
        refuse(null, "cannot read it: " + ar.cause().getMessage());
        return;
      }
      Version version = new Version(ar.result().lastModifiedTime(), ar.result().size());
      if (version.equals(before.version()) || version.equals(refused)) {
        return;
      }
      read(vertx, file, backends).onComplete(loaded -> {
        if (loaded.failed()) {
          refuse(version, loaded.cause().getMessage());
        } else if (current.compareAndSet(before, loaded.result())) {
          refused = null;
          LOG.info("passwd-file {} re-read: {} users", file, loaded.result().users().size());
          onChange.run();
        }
      });
    });
  }

  /** Logs a refused version once; it is tried again only after it changes. */
  private void refuse(Version version, String why) {
    if (version == null ? refused != MISSING : !version.equals(refused)) {
      refused = version == null ? MISSING : version;
      refusedReloads.incrementAndGet();
      LOG.error("passwd-file {} not re-read, keeping the previous version: {}", file, why);
    }
  }

  private static Future<Loaded> read(Vertx vertx, Path file, Set<String> backends) {
    return vertx.fileSystem().props(file.toString()).compose(props ->
        vertx.fileSystem().readFile(file.toString()).compose(bytes ->
            vertx.executeBlocking(() -> {
              PasswdFile users = PasswdFile.parse(
                  new String(bytes.getBytes(), StandardCharsets.UTF_8), file.toString());
              checkBackends(users, backends, file);
              return new Loaded(users, new Version(props.lastModifiedTime(), props.size()));
            }, false)))
        .recover(e -> Future.failedFuture(describe(file, e)));
  }

  private static void checkBackends(PasswdFile users, Set<String> backends, Path file)
      throws PasswdFileException {
    for (PasswdEntry entry : users.entries()) {
      if (entry.backend() != null && !backends.contains(entry.backend())) {
        throw new PasswdFileException(file + ":" + entry.line() + ": backend '" + entry.backend()
            + "' is not defined under backends", entry.line());
      }
    }
  }

  private static Exception describe(Path file, Throwable e) {
    if (e instanceof PasswdFileException p) {
      return p;
    }
    if (e instanceof io.vertx.core.file.FileSystemException
        && e.getCause() instanceof java.nio.file.NoSuchFileException) {
      return new java.io.FileNotFoundException(file + " does not exist");
    }
    return new java.io.IOException("cannot read " + file + ": " + e.getMessage());
  }
}
