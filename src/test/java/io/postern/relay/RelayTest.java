package io.postern.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.config.TlsConfig;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The relay after login: byte-exact, bounded memory with slow peers, clean endings, isolation. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RelayTest {

  /** Far more than Postern may hold for one session; far less than the data offered. */
  private static final long BOUND = 48L << 20;
  private static final int USERS = 40;

  @TempDir
  static Path dir;

  private final AtomicLong backendSent = new AtomicLong();
  private final AtomicLong backendReceived = new AtomicLong();
  private final AtomicBoolean backendSawEof = new AtomicBoolean();
  private FakeBackend backend;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    TestTls tls = TestTls.shared("localhost");
    backend = FakeBackend.start(c -> {
      c.send("* OK [CAPABILITY IMAP4rev1] lab ready\r\n");
      String login = c.readLine();
      String user = login.split(" ")[2].replace("\"", "");
      c.send(login.split(" ")[0] + " OK [CAPABILITY IMAP4rev1] Logged in\r\n");
      lab(c, user);
    }, tls);
    PosternFixture.Builder builder = PosternFixture.builder(dir)
        .backend(backend.port(), 1)
        .plaintextListeners()
        .cleartext(AuthConfig.Cleartext.ALLOW);
    for (int i = 0; i < USERS; i++) {
      builder.user("user" + i, "pw" + i);
    }
    postern = builder.start();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
    backend.close();
  }

  /** What the lab backend does after login, driven by one command line from the client. */
  private void lab(Conversation c, String user) throws Exception {
    String line = c.readLine();
    String[] words = line.split(" ");
    String tag = words[0];
    OutputStream out = c.socket().getOutputStream();
    InputStream in = c.socket().getInputStream();
    switch (words[1]) {
      case "ECHO" -> BackendScripts.ECHO.run(c);
      case "WHOAMI" -> {
        c.send("* WHOAMI " + user + "\r\n" + tag + " OK done\r\n");
        lab(c, user);
      }
      case "STREAM" -> {
        byte[] chunk = new byte[64 * 1024];
        long limit = Long.parseLong(words[2]);
        for (long sent = 0; sent < limit; sent += chunk.length) {
          out.write(chunk);
          backendSent.addAndGet(chunk.length);
        }
        out.flush();
      }
      case "SINK" -> {
        c.send(tag + " OK sinking\r\n");
        // Read nothing until told: the client's upload must stall in TCP, not in Postern.
        while (!sinkReleased.get()) {
          Thread.sleep(20);
        }
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) {
          backendReceived.addAndGet(n);
        }
      }
      case "SENDCLOSE" -> {
        byte[] data = pattern(Integer.parseInt(words[2]));
        out.write(data);
        out.flush();
        c.close();
        backendClosed.set(true);
      }
      case "LOGOUT" -> {
        Thread.sleep(300);
        c.send("* BYE lab logging out\r\n" + tag + " OK LOGOUT completed\r\n");
        backendSawEof.set(in.read() < 0);
        c.close();
      }
      case "WAIT" -> backendSawEof.set(in.read() < 0);
      default -> c.send(tag + " BAD\r\n");
    }
  }

  private final AtomicBoolean sinkReleased = new AtomicBoolean();
  private final AtomicBoolean backendClosed = new AtomicBoolean();

  private Conversation login(String listener, int user) throws Exception {
    return login(postern, listener, user);
  }

  private static Conversation login(PosternFixture server, String listener, int user)
      throws Exception {
    Conversation c = listener.equals("imaps")
        ? MailClient.implicitTls(server.port(listener), server.tls())
        : MailClient.plain(server.port(listener), server.tls());
    c.expect("* OK");
    c.send("a LOGIN user" + user + " pw" + user + "\r\n");
    assertThat(c.readLine()).startsWith("a OK");
    return c;
  }

  private static byte[] pattern(int n) {
    byte[] data = new byte[n];
    new Random(n).nextBytes(data);
    return data;
  }

  private static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  @Test
  void relayShouldCarryOver100MegabytesOfEveryByteValueUnchangedBothWays() throws Exception {
    long total = 130L << 20;
    try (Conversation c = login("imaps", 1)) {
      c.send("b ECHO\r\n");
      MessageDigest sent = MessageDigest.getInstance("SHA-256");
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        Random random = new Random(7);
        byte[] chunk = new byte[256 * 1024];
        try {
          for (long done = 0; done < total; done += chunk.length) {
            random.nextBytes(chunk);
            for (int b = 0; b < 256; b++) {
              chunk[b] = (byte) b;
            }
            sent.update(chunk);
            c.sendRaw(chunk);
          }
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      MessageDigest received = MessageDigest.getInstance("SHA-256");
      InputStream in = c.socket().getInputStream();
      byte[] buf = new byte[256 * 1024];
      long got = 0;
      while (got < total) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, total - got));
        assertThat(n).as("stream ended after %d bytes", got).isPositive();
        received.update(buf, 0, n);
        got += n;
      }
      writer.get(120, TimeUnit.SECONDS);
      assertThat(HexFormat.of().formatHex(received.digest()))
          .isEqualTo(HexFormat.of().formatHex(sent.digest()));
    }
  }

  @Test
  void aClientThatStopsReadingShouldStallTheBackendNotFillPostern() throws Exception {
    backendSent.set(0);
    try (Conversation c = login("imaps", 2)) {
      c.send("b STREAM " + (1L << 30) + "\r\n");
      long stalled = awaitStall(backendSent);
      assertThat(stalled).as("bytes the backend got rid of while the client read nothing")
          .isLessThan(BOUND);
      // Reading again lets the stream go on: the pause was backpressure, not a failure.
      c.readBytes(32 << 20);
      assertThat(backendSent.get()).isGreaterThan(stalled + (16 << 20));
    }
  }

  @Test
  void aBackendThatStopsReadingShouldStallTheClientNotFillPostern() throws Exception {
    backendReceived.set(0);
    sinkReleased.set(false);
    AtomicLong clientSent = new AtomicLong();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Conversation c = login("imaps", 3)) {
      c.send("b SINK\r\n");
      assertThat(c.readLine()).isEqualTo("b OK sinking");
      Future<?> upload = pool.submit(() -> {
        byte[] chunk = new byte[64 * 1024];
        for (long i = 0; i < 16_384; i++) {
          c.sendRaw(chunk);
          clientSent.addAndGet(chunk.length);
        }
        return null;
      });
      long stalled = awaitStall(clientSent);
      assertThat(stalled).as("bytes the client got rid of while the backend read nothing")
          .isLessThan(BOUND);
      sinkReleased.set(true);
      await().atMost(Duration.ofSeconds(30))
          .until(() -> clientSent.get() > stalled + (16 << 20));
      upload.cancel(true);
    } finally {
      sinkReleased.set(true);
      pool.shutdownNow();
    }
  }

  @Test
  void whatTheBackendSentBeforeClosingShouldAllReachASlowClient() throws Exception {
    backendClosed.set(false);
    try (Conversation c = login("imaps", 4)) {
      c.send("b SENDCLOSE 5000000\r\n");
      // The backend is gone before the client reads a byte.
      await().atMost(Duration.ofSeconds(10)).untilTrue(backendClosed);
      assertThat(sha256(c.readBytes(5_000_000))).isEqualTo(sha256(pattern(5_000_000)));
      assertThat(c.closedByPeer(5000)).isTrue();
    }
  }

  @Test
  void aClientThatHalfClosesAfterLogoutShouldStillGetTheBackendsAnswer() throws Exception {
    halfCloseAfterLogout(postern, "imap-plain");
  }

  @Test
  void aTlsClientThatSendsCloseNotifyAfterLogoutShouldStillGetTheAnswerWithTheJdkEngine()
      throws Exception {
    // Netty's OpenSSL engine closes both directions on close_notify; the JDK engine honours
    // TLS 1.3 half-close (documented in the README).
    PosternFixture.Builder builder = PosternFixture.builder(dir.resolve("jdk"))
        .backend(backend.port(), 1).engine(TlsConfig.Engine.JDK);
    for (int i = 0; i < USERS; i++) {
      builder.user("user" + i, "pw" + i);
    }
    try (PosternFixture jdk = builder.start()) {
      halfCloseAfterLogout(jdk, "imaps");
    }
  }

  private void halfCloseAfterLogout(PosternFixture server, String listener) throws Exception {
    backendSawEof.set(false);
    try (Conversation c = login(server, listener, 5)) {
      c.send("b LOGOUT\r\n");
      c.shutdownOutput();
      assertThat(c.readLine()).isEqualTo("* BYE lab logging out");
      assertThat(c.readLine()).isEqualTo("b OK LOGOUT completed");
      assertThat(c.closedByPeer(5000)).isTrue();
    }
    await().atMost(Duration.ofSeconds(5)).untilTrue(backendSawEof);
  }

  @Test
  void aClientThatClosesShouldCloseTheBackendConnection() throws Exception {
    backendSawEof.set(false);
    Conversation c = login("imaps", 6);
    c.send("b WAIT\r\n");
    c.close();
    await().atMost(Duration.ofSeconds(5)).untilTrue(backendSawEof);
  }

  @Test
  void concurrentSessionsShouldEachOnlyEverSeeTheirOwnUser() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(USERS);
    try {
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < USERS; i++) {
        int user = i;
        answers.add(pool.submit(() -> {
          try (Conversation c = login(user % 2 == 0 ? "imaps" : "imap-plain", user)) {
            StringBuilder seen = new StringBuilder();
            for (int round = 0; round < 5; round++) {
              c.send("w" + round + " WHOAMI\r\n");
              seen.append(c.readLine()).append('|');
              c.readLine();
            }
            return seen.toString();
          }
        }));
      }
      for (int i = 0; i < USERS; i++) {
        assertThat(answers.get(i).get(60, TimeUnit.SECONDS))
            .isEqualTo(("* WHOAMI user" + i + "|").repeat(5));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Waits until a counter has not moved for a second, and returns where it stopped. */
  private static long awaitStall(AtomicLong counter) {
    long[] last = {-1};
    long[] since = {System.nanoTime()};
    await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(60)).until(() -> {
      long now = counter.get();
      if (now != last[0]) {
        last[0] = now;
        since[0] = System.nanoTime();
        return false;
      }
      return now > 0 && System.nanoTime() - since[0] > 1_000_000_000L;
    });
    return last[0];
  }
}
