package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pool of two real Dovecot servers ({@code a} and {@code b}, each on its own ports of
 * 127.0.0.1, the same users on both) behind the packaged jar, with Python's imaplib and poplib
 * as clients. Server {@code a} holds one message per user and {@code b} two, so the message
 * count a client sees tells which server it reached. Backend {@code default} is checked every
 * second (fall 2, rise 2); backend {@code nocheck} is the same two servers without checks, where
 * only the logins themselves find a dead server and move on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BackendPoolIT {

  private static final Duration STATE_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration RUN_TIMEOUT = Duration.ofSeconds(240);
  private static final int RUN_LOGINS = 200;
  private static final int RUN_THREADS = 4;
  /**
   * The run's logins done before server a is stopped. Early: Dovecot takes seconds to stop on
   * busy cores (it greets and takes logins meanwhile), and many logins must remain after that.
   */
  private static final int STOP_AFTER = 25;
  /** The run's logins held back until Postern shows server a down. */
  private static final int AFTER_DOWN = 50;
  private static final Pattern SAMPLE = Pattern.compile("^(postern_[a-z_]+)\\{([^}]*)} (\\S+)$",
      Pattern.MULTILINE);

  @TempDir
  static Path dir;

  /** user01..user20 on backend default; spare01..spare08 on backend nocheck. */
  private final Map<String, String> users = new LinkedHashMap<>();
  private final List<String> pooled = new ArrayList<>();
  private final List<String> spares = new ArrayList<>();
  /** Each user's server ("a" or "b") with both servers up, as the first logins found it. */
  private final Map<String, String> home = new LinkedHashMap<>();
  private DovecotServer a;
  private DovecotServer b;
  private OpensslCertificates.Pair cert;
  private PosternJar postern;
  private Map<String, Integer> ports;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * One client login: its place in its run, when it started and ended (wall clock, epoch
   * nanoseconds, as Python's time.time_ns()), how it ended and the server it reached.
   */
  private record Login(int index, String user, long started, long ended, String result,
      String server, String error) {

    static Login of(JsonObject json) {
      Integer exists = json.getInteger("exists");
      String server = exists == null ? null : exists == 1 ? "a" : exists == 2 ? "b" : "?" + exists;
      return new Login(json.getInteger("i"), json.getString("user"), json.getLong("start"),
          json.getLong("end"), json.getString("login"), server, json.getString("error"));
    }

    boolean ok() {
      return result.equals("ok");
    }
  }

  @BeforeAll
  void start() throws Exception {
    RealParts.require("python3");
    for (int i = 1; i <= 20; i++) {
      String user = String.format("user%02d", i);
      users.put(user, "pw-" + user);
      pooled.add(user);
    }
    for (int i = 1; i <= 8; i++) {
      String user = String.format("spare%02d", i);
      users.put(user, "pw-" + user);
      spares.add(user);
    }
    a = DovecotServer.start(dir.resolve("dovecot-a"), users);
    b = DovecotServer.start(dir.resolve("dovecot-b"), users);
    byte[] marker = TestMessages.small();
    for (String user : users.keySet()) {
      a.deliver(user, marker);
      b.deliver(user, marker);
      b.deliver(user, marker);
    }
    cert = OpensslCertificates.localhost(dir, "postern");
    Path passwd = dir.resolve("users.passwd");
    StringBuilder lines = new StringBuilder();
    users.forEach((user, password) -> lines.append(PosternFixture.passwdLine(user, password,
        user.startsWith("spare") ? "backend=nocheck" : "")).append('\n'));
    Files.writeString(passwd, lines);
    String servers = "    servers:\n"
        + "      - { name: a, host: 127.0.0.1, imap-port: " + a.imapPort() + ", pop3-port: "
        + a.pop3Port() + " }\n"
        + "      - { name: b, host: 127.0.0.1, imap-port: " + b.imapPort() + ", pop3-port: "
        + b.pop3Port() + " }\n"
        + "    imap: { tls: none }\n"
        + "    pop3: { tls: none }\n";
    Path config = dir.resolve("postern.yaml");
    Files.writeString(config, String.join("\n",
        "listeners:",
        "  - { name: imaps, protocol: imap, address: 127.0.0.1, port: 0, tls: implicit }",
        "  - { name: pop3s, protocol: pop3, address: 127.0.0.1, port: 0, tls: implicit }",
        "tls:",
        "  certificates: [ { cert: '" + cert.cert() + "', key: '" + cert.key() + "' } ]",
        "auth: { passwd-file: '" + passwd + "', failure-delay: 100ms }",
        "backends:",
        "  default:",
        servers + "    health-check: { interval: 1s, timeout: 1s, fall: 2, rise: 2 }",
        "  nocheck:",
        servers + "    health-check: { enabled: false }",
        // Hundreds of TLS logins from 127.0.0.1 a minute: over the shipped per-address rates.
        "limits: { backend-connect-timeout: 2s, backend-login-timeout: 5s,"
            + " connection-rate-per-ip: 0, handshake-rate-per-ip: 0 }",
        "admin: { address: 127.0.0.1, port: 0 }",
        ""));
    postern = PosternJar.start(dir, Map.of(), "--config", config.toString());
    ports = postern.listenerPorts();
    assertThat(ports).containsOnlyKeys("imaps", "pop3s");
    // The first checks are spread over one interval; a and b are up from the start anyway.
    awaitUp("default", "a", true);
    awaitUp("default", "b", true);
  }

  @AfterAll
  void stop() {
    for (AutoCloseable part : new AutoCloseable[] {postern, a, b}) {
      if (part != null) {
        try {
          part.close();
        } catch (Exception e) {
          // Closing the rest matters more.
        }
      }
    }
  }

  @Test
  @Order(1)
  void usersShouldSpreadOverBothServersAndStayOnTheirs() throws Exception {
    List<String> everyone = List.copyOf(users.keySet());
    for (Login first : run("imap", everyone, 1)) {
      assertThat(first.ok()).as("%s: %s", first.user(), first.error()).isTrue();
      home.put(first.user(), first.server());
    }
    // Twice again, and over POP3: the same server each time (the ring hashes the user name).
    List<String> twice = new ArrayList<>(everyone);
    twice.addAll(everyone);
    for (Login again : run("imap", twice, RUN_THREADS)) {
      assertThat(again.server()).as("%s again: %s", again.user(), again.error())
          .isEqualTo(home.get(again.user()));
    }
    for (Login pop3 : run("pop3", everyone, RUN_THREADS)) {
      assertThat(pop3.server()).as("%s over POP3: %s", pop3.user(), pop3.error())
          .isEqualTo(home.get(pop3.user()));
    }
    Map<String, Long> shares = new LinkedHashMap<>();
    for (String user : pooled) {
      shares.merge(home.get(user), 1L, Long::sum);
    }
    System.out.println("[BackendPoolIT] users of backend default per server: " + shares);
    assertThat(shares.keySet()).containsExactlyInAnyOrder("a", "b");
    assertThat(spares.stream().map(home::get)).as("spares' servers").contains("a");
    // A session held open counts at its server while it lasts.
    String user = pooled.stream().filter(u -> home.get(u).equals("a")).findFirst().orElseThrow();
    try (Conversation held = MailClient.implicitTls(ports.get("imaps"), cert.cert())) {
      held.expect("* OK");
      held.send("s1 LOGIN " + user + " " + users.get(user) + "\r\n");
      held.expect("s1 OK");
      assertThat(metric("postern_backend_sessions", "backend", "default", "server", "a"))
          .isEqualTo(1);
      assertThat(metric("postern_backend_sessions", "backend", "default", "server", "b"))
          .isZero();
      held.send("s2 LOGOUT\r\n");
      held.expect("* BYE");
    }
    Awaitility.await().atMost(STATE_TIMEOUT).until(() ->
        metric("postern_backend_sessions", "backend", "default", "server", "a") == 0);
    JsonObject ready = readiness(200);
    assertThat(ready.getJsonObject("backends").getJsonObject("default").getJsonObject("imap")
        .getString("a")).isEqualTo("up 127.0.0.1:" + a.imapPort());
  }

  @Test
  @Order(2)
  void aServerStoppedDuringARunShouldCostNoLoginStartedAfterPosternSawItDown() throws Exception {
    double failoversBefore = metric("postern_backend_failovers_total", "backend", "default");
    List<Login> logins = new ArrayList<>();
    BlockingQueue<Login> ended = new LinkedBlockingQueue<>();
    long[] outage = new long[3];
    CompletableFuture<Void> stop = null;
    try (LoginRun clients = new LoginRun("imap", RUN_THREADS, ended::add)) {
      long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
      int fed = 0;
      while (logins.size() < RUN_LOGINS) {
        // Every thread busy, but the last AFTER_DOWN logins only once Postern shows a down:
        // however long Dovecot takes to stop, that many start after Postern knew.
        boolean seen = stop != null && stop.isDone();
        int limit = seen ? RUN_LOGINS : RUN_LOGINS - AFTER_DOWN;
        for (; fed < limit && fed - logins.size() < RUN_THREADS; fed++) {
          clients.feed(pooled.get(fed % pooled.size()));
        }
        Login login = ended.poll(100, TimeUnit.MILLISECONDS);
        if (login != null) {
          logins.add(login);
        }
        if (stop == null && logins.size() >= STOP_AFTER) {
          stop = CompletableFuture.runAsync(() -> stopAAndAwaitPosternSeeingIt(outage));
        }
        if (stop != null && stop.isCompletedExceptionally()) {
          stop.join();
        }
        assertThat(System.nanoTime()).as("the run's deadline").isLessThan(deadline);
      }
      clients.await();
    }
    long stopping = outage[0];
    long stopped = outage[1];
    long seenDown = outage[2];
    assertThat(logins).hasSize(RUN_LOGINS);
    List<Login> failed = logins.stream().filter(l -> !l.ok()).toList();
    List<Login> after = logins.stream().filter(l -> l.started() > seenDown).toList();
    long inFlightAtStop = logins.stream()
        .filter(l -> l.started() < stopped && l.ended() > stopping).count();
    double failovers = metric("postern_backend_failovers_total", "backend", "default")
        - failoversBefore;
    System.out.printf("[BackendPoolIT] %d logins from %d threads; server a stopped after %d;"
            + " Postern showed it down %d ms after the stop began (%d ms after it was gone);"
            + " %d logins in flight at the stop; %d failed: %s; %d started after Postern saw it"
            + " down, none may fail; failovers counted: %.0f%n",
        logins.size(), RUN_THREADS, STOP_AFTER, (seenDown - stopping) / 1_000_000,
        (seenDown - stopped) / 1_000_000, inFlightAtStop, failed.size(),
        failed.stream().map(l -> l.user() + ": " + l.error()).toList(), after.size(), failovers);
    // What Postern said about the logins that failed.
    postern.output().lines().filter(l -> l.contains("login failed")
        && failed.stream().anyMatch(f -> l.contains("user=" + f.user() + " ")))
        .forEach(l -> System.out.println("[BackendPoolIT] " + l));
    assertThat(after).as("logins that started after Postern saw a down")
        .hasSizeGreaterThanOrEqualTo(AFTER_DOWN)
        .allSatisfy(l -> assertThat(l.ok()).as("%s: %s", l.user(), l.error()).isTrue());
    // Only a login that was already under way when a went away can have failed.
    assertThat(failed).allSatisfy(l -> assertThat(l.started()).isLessThan(seenDown));
    // Everyone started after that is on b, a's users included; b's users never moved.
    assertThat(after).allSatisfy(l -> assertThat(l.server()).as(l.user()).isEqualTo("b"));
    assertThat(after.stream().map(Login::user).filter(u -> home.get(u).equals("a")))
        .isNotEmpty();
    assertThat(logins.stream().filter(l -> l.ok() && home.get(l.user()).equals("b")))
        .allSatisfy(l -> assertThat(l.server()).as(l.user()).isEqualTo("b"));
    assertThat(logins.stream().filter(l -> l.ok() && l.ended() < stopping))
        .allSatisfy(l -> assertThat(l.server()).as(l.user()).isEqualTo(home.get(l.user())));
    assertThat(postern.output()).contains("backend server down: backend=default server=a"
        + " protocol=imap");
    awaitUp("default", "a", false);
    assertThat(metric("postern_backend_up", "backend", "default", "server", "b", "protocol",
        "imap")).isEqualTo(1);
  }

  @Test
  @Order(3)
  void withoutChecksTheLoginItselfShouldMoveOnToTheNextServer() throws Exception {
    // Backend nocheck has no checks: a is still "up" there, so a's users go to a, find it
    // dead (connection refused), and move on to b within the same login.
    String user = spares.stream().filter(u -> home.get(u).equals("a")).findFirst().orElseThrow();
    double before = metric("postern_backend_failovers_total", "backend", "nocheck");
    Login moved = run("imap", List.of(user), 1).get(0);
    assertThat(moved.ok()).as(moved.error()).isTrue();
    assertThat(moved.server()).isEqualTo("b");
    assertThat(metric("postern_backend_failovers_total", "backend", "nocheck"))
        .isEqualTo(before + 1);
    Login pop3 = run("pop3", List.of(user), 1).get(0);
    assertThat(pop3.server()).as(pop3.error()).isEqualTo("b");
    assertThat(metric("postern_backend_failovers_total", "backend", "nocheck"))
        .isEqualTo(before + 2);
    // Without checks nothing could bring a back, so logins never take it down.
    assertThat(metric("postern_backend_up", "backend", "nocheck", "server", "a", "protocol",
        "imap")).isEqualTo(1);
    assertThat(postern.output()).contains("backend=nocheck server=a failed");
  }

  @Test
  @Order(4)
  void readinessShouldListEachServerAndFailOnlyWhenAPoolHasNoLiveServer() throws Exception {
    JsonObject ready = readiness(200);
    for (String protocol : List.of("imap", "pop3")) {
      JsonObject pool = ready.getJsonObject("backends").getJsonObject("default")
          .getJsonObject(protocol);
      int aPort = protocol.equals("imap") ? a.imapPort() : a.pop3Port();
      int bPort = protocol.equals("imap") ? b.imapPort() : b.pop3Port();
      // Why, in full: the check's connect was refused.
      assertThat(pool.getString("a")).startsWith("down 127.0.0.1:" + aPort + ": ")
          .contains("Connection refused");
      assertThat(pool.getString("b")).isEqualTo("up 127.0.0.1:" + bPort);
    }
    System.out.println("[BackendPoolIT] /health/ready with a down: " + ready.encode());

    b.stop();
    long stopped = System.nanoTime();
    Awaitility.await().atMost(STATE_TIMEOUT).pollInterval(Duration.ofMillis(100))
        .until(() -> get("/health/ready").statusCode() == 503);
    System.out.printf("[BackendPoolIT] /health/ready answered 503 %d ms after b stopped too%n",
        (System.nanoTime() - stopped) / 1_000_000);
    JsonObject down = readiness(503);
    assertThat(down.getJsonArray("problems").encode()).contains(
        "backend default has no live server for imap",
        "backend default has no live server for pop3");
    awaitUp("default", "b", false);
    // Every server of the pool down: a prompt temporary failure, not a hang.
    Login refused = run("imap", List.of("user01"), 1).get(0);
    assertThat(refused.result()).isEqualTo("failed");
    assertThat(refused.error()).contains("[UNAVAILABLE]");
    assertThat(Duration.ofNanos(refused.ended() - refused.started()))
        .isLessThan(Duration.ofSeconds(5));
  }

  @Test
  @Order(5)
  void serversThatComeBackShouldGetTheirUsersBack() throws Exception {
    long restarting = System.nanoTime();
    a.restart();
    b.restart();
    long restarted = System.nanoTime();
    for (String server : List.of("a", "b")) {
      awaitUp("default", server, true);
    }
    System.out.printf("[BackendPoolIT] a and b up again in Postern's eyes %d ms after they"
            + " were restarted (the restart took %d ms)%n",
        (System.nanoTime() - restarted) / 1_000_000, (restarted - restarting) / 1_000_000);
    readiness(200);
    for (Login back : run("imap", List.copyOf(users.keySet()), RUN_THREADS)) {
      assertThat(back.server()).as("%s: %s", back.user(), back.error())
          .isEqualTo(home.get(back.user()));
    }
    assertThat(postern.output()).contains("backend server up: backend=default server=a"
        + " protocol=imap", "backend server up: backend=default server=a protocol=pop3");
    assertThat(postern.output()).containsPattern("user=user\\d\\d .*server=a");
  }

  /**
   * Stops server a and waits until Postern's metrics show it down: the times (epoch nanos) when
   * the stop began, when Dovecot was gone, and right after Postern answered that it was down
   * (any login that began later began after Postern knew).
   */
  private void stopAAndAwaitPosternSeeingIt(long[] times) {
    times[0] = epochNanos();
    a.stop();
    times[1] = epochNanos();
    Awaitility.await().atMost(STATE_TIMEOUT).pollInterval(Duration.ofMillis(50)).until(() -> {
      boolean down = metric("postern_backend_up", "backend", "default", "server", "a",
          "protocol", "imap") == 0;
      times[2] = epochNanos();
      return down;
    });
  }

  /** Logs each of {@code logins} in, in order, from {@code threads} threads; waits for all. */
  private List<Login> run(String protocol, List<String> logins, int threads) throws Exception {
    List<Login> done = Collections.synchronizedList(new ArrayList<>());
    try (LoginRun clients = new LoginRun(protocol, logins, threads, done::add)) {
      clients.await();
    }
    done.sort(Comparator.comparingInt(Login::index));
    return done;
  }

  /** One Python process (login_run.py) making the logins, each reported as it ends. */
  private final class LoginRun implements AutoCloseable {
    private final Process process;
    private final Writer input;
    private final Thread reader;
    private final AtomicInteger reported = new AtomicInteger();
    private final Path stderr;
    private int fed;
    private boolean finished;

    LoginRun(String protocol, List<String> logins, int threads, Consumer<Login> each)
        throws Exception {
      this(protocol, threads, each);
      for (String user : logins) {
        feed(user);
      }
      finish();
    }

    /** A run whose logins come one by one through {@link #feed}, until {@link #finish}. */
    LoginRun(String protocol, int threads, Consumer<Login> each) throws Exception {
      stderr = Files.createTempFile(dir, "login-run", ".err");
      process = Clients.startPython(stderr, "login_run.py", "--port",
          String.valueOf(ports.get(protocol.equals("imap") ? "imaps" : "pop3s")), "--protocol",
          protocol, "--cafile", cert.cert().toString(), "--logins", "-",
          "--threads", String.valueOf(threads));
      input = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      reader = new Thread(() -> {
        try (BufferedReader out = process.inputReader(StandardCharsets.UTF_8)) {
          for (String line = out.readLine(); line != null; line = out.readLine()) {
            each.accept(Login.of(new JsonObject(line)));
            reported.incrementAndGet();
          }
        } catch (IOException e) {
          // The process was stopped; await() says what is missing.
        }
      }, "login-run");
      reader.start();
    }

    /** One more login for the next free thread. */
    void feed(String user) throws IOException {
      input.write(user + "\t" + users.get(user) + "\n");
      input.flush();
      fed++;
    }

    /** No more logins: the threads end when they have made those fed. */
    void finish() throws IOException {
      if (!finished) {
        finished = true;
        input.close();
      }
    }

    void await() throws Exception {
      finish();
      if (!process.waitFor(RUN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new AssertionError("login_run.py did not finish in " + RUN_TIMEOUT);
      }
      reader.join(10_000);
      assertThat(reported.get()).as("logins reported; stderr: %s", Files.readString(stderr))
          .isEqualTo(fed);
    }

    @Override
    public void close() throws InterruptedException {
      process.destroyForcibly();
      reader.join(10_000);
    }
  }

  private static long epochNanos() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  private void awaitUp(String backend, String server, boolean up) {
    Awaitility.await().atMost(STATE_TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() ->
        metric("postern_backend_up", "backend", backend, "server", server, "protocol", "imap")
            == (up ? 1 : 0)
        && metric("postern_backend_up", "backend", backend, "server", server, "protocol", "pop3")
            == (up ? 1 : 0));
  }

  /** The one sample of {@code name} whose labels include {@code labels} (name, value, ...). */
  private double metric(String name, String... labels) throws Exception {
    Matcher m = SAMPLE.matcher(get("/metrics").body());
    Set<String> found = new TreeSet<>();
    while (m.find()) {
      if (!m.group(1).equals(name)) {
        continue;
      }
      found.add(m.group(2));
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        all &= m.group(2).contains(labels[i] + "=\"" + labels[i + 1] + "\"");
      }
      if (all) {
        return Double.parseDouble(m.group(3));
      }
    }
    throw new AssertionError("no " + name + " with " + List.of(labels) + " among " + found);
  }

  private JsonObject readiness(int status) throws Exception {
    HttpResponse<String> r = get("/health/ready");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    return new JsonObject(r.body());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(postern.adminUrl() + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }
}
