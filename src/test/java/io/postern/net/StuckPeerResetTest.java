package io.postern.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.config.AuthConfig;
import io.postern.session.SessionView;
import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.ExternalCommand;
import io.postern.testing.FakeBackend;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.postern.testing.TestTls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * When Postern gives up on a peer that does not read, it resets the connection: the megabytes
 * queued for that peer are freed at once instead of sitting in the kernel behind a FIN the peer
 * never takes (FIN-WAIT-1). Seen from the client: its last read ends in "Connection reset", not
 * in an orderly end of stream; seen from the host: no FIN-WAIT-1 socket on Postern's port.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StuckPeerResetTest {

  @TempDir
  static Path dir;

  private FakeBackend backend;
  private PosternFixture postern;

  @BeforeAll
  void start() throws Exception {
    backend = FakeBackend.start(StuckPeerResetTest::floodAfterLogin, TestTls.shared("localhost"));
    postern = fixture(dir.resolve("main")).start();
  }

  @AfterAll
  void stop() throws Exception {
    postern.close();
    backend.close();
  }

  private PosternFixture.Builder fixture(Path where) {
    return PosternFixture.builder(where).user("flood", "pw").user("alice", "pw")
        .backend(backend.port(), 1).plaintextListeners().cleartext(AuthConfig.Cleartext.ALLOW)
        .preauthTimeout(Duration.ofSeconds(2)).handshakeTimeout(Duration.ofSeconds(1))
        .idleTimeout(Duration.ofSeconds(1));
  }

  /** After login, "flood" gets data without end; anyone else an ordinary IMAP session. */
  private static void floodAfterLogin(Conversation c) throws Exception {
    c.send("* OK [CAPABILITY IMAP4rev1] ready\r\n");
    String login = c.readLine();
    c.send(login.split(" ")[0] + " OK [CAPABILITY IMAP4rev1] Logged in\r\n");
    if (login.contains("flood")) {
      OutputStream out = c.socket().getOutputStream();
      byte[] chunk = "* 1 FETCH (BODY[] {65536}\r\n".repeat(2400).getBytes(StandardCharsets.US_ASCII);
      while (true) {
        out.write(chunk);
      }
    }
    BackendScripts.imapCommands("alice").run(c);
  }

  @Test
  void aClientThatStopsReadingARelayedFloodShouldBeReset() throws Exception {
    int port = postern.port("imap-plain");
    try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
      Conversation c = MailClient.wrap(raw, postern.tls());
      c.expect("* OK");
      c.send("a LOGIN flood pw\r\n");
      // The client reads nothing more; the backend sends on. Postern gives up at the idle
      // timeout (1 s here).
      await().atMost(Duration.ofSeconds(20)).until(() -> openConnections(postern) == 0);
      assertThat(finWait1(port)).as("sockets left to the kernel in FIN-WAIT-1").isEmpty();
      assertThat(endOfStream(raw)).isEqualTo("reset");
    }
  }

  @Test
  void aTlsClientThatStopsReadingARelayedFloodShouldBeReset() throws Exception {
    int port = postern.port("imaps");
    try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
      SSLSocket tls = (SSLSocket) postern.tls().clientContext().getSocketFactory()
          .createSocket(raw, postern.tls().host(), port, false);
      tls.startHandshake();
      Conversation c = MailClient.wrap(tls, postern.tls());
      c.expect("* OK");
      c.send("a LOGIN flood pw\r\n");
      await().atMost(Duration.ofSeconds(20)).until(() -> openConnections(postern) == 0);
      assertThat(finWait1(port)).as("sockets left to the kernel in FIN-WAIT-1").isEmpty();
      assertThat(endOfStream(raw)).isEqualTo("reset");
    }
  }

  @Test
  void aClientThatNeverReadsItsRepliesBeforeLoginShouldBeResetAfterTheDeadline()
      throws Exception {
    int port = postern.port("imap-plain");
    try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
      // A burst of commands whose replies (about 2.7 MB) the client never reads; then silence.
      byte[] noops = "a NOOP\r\n".repeat(128 * 1024).getBytes(StandardCharsets.US_ASCII);
      CompletableFuture<Void> burst = CompletableFuture.runAsync(() -> {
        try {
          raw.getOutputStream().write(noops);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      burst.get(20, TimeUnit.SECONDS);
      // The pre-auth deadline (2 s), then the time a closing connection may take (1 s).
      await().atMost(Duration.ofSeconds(20)).until(() -> openConnections(postern) == 0);
      assertThat(finWait1(port)).as("sockets left to the kernel in FIN-WAIT-1").isEmpty();
      assertThat(endOfStream(raw)).isEqualTo("reset");
    }
  }

  @Test
  void aStuckClientShouldBeResetWhenTheShutdownGraceEnds() throws Exception {
    // Its own Postern: this one is stopped. Idle timeout far away, so only the shutdown ends it.
    PosternFixture stopping = fixture(dir.resolve("stopping"))
        .idleTimeout(Duration.ofMinutes(30)).start();
    try {
      int port = stopping.port("imap-plain");
      try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), port)) {
        Conversation c = MailClient.wrap(raw, stopping.tls());
        c.expect("* OK");
        c.send("a LOGIN flood pw\r\n");
        c.expect("a OK");
        // Stuck means Postern holds part of the flood for a client that reads none of it. Until
        // the first flood bytes have passed, the relay is between two responses, where a stop
        // rightly ends it with a BYE and an orderly close (and the client would see a FIN).
        await().atMost(Duration.ofSeconds(20)).until(() -> relayedToClient(stopping, "flood") > 0);
        long start = System.nanoTime();
        // The fixture's shutdown grace is 1 s: then the relay is cut, and the stop completes.
        stopping.server().stop().await(20, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(finWait1(port)).as("sockets left to the kernel in FIN-WAIT-1").isEmpty();
        assertThat(endOfStream(raw)).isEqualTo("reset");
      }
    } finally {
      stopping.close();
    }
  }

  @Test
  void aClientThatReadsEverythingShouldStillSeeAnOrderlyEnd() throws Exception {
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGIN alice pw\r\nb LOGOUT\r\n");
      c.expect("a OK");
      c.expect("* BYE");
      c.expect("b OK");
      assertThat(endOfStream(c.socket())).isEqualTo("fin");
    }
    try (Conversation c = MailClient.plain(postern.port("imap-plain"), postern.tls())) {
      c.expect("* OK");
      c.send("a LOGOUT\r\n");
      c.expect("* BYE");
      c.expect("a OK");
      assertThat(endOfStream(c.socket())).isEqualTo("fin");
    }
  }

  /** Bytes the relay of {@code user}'s session has passed to the client (login reply aside). */
  private static long relayedToClient(PosternFixture server, String user) {
    return server.server().sessions().list(v -> user.equals(v.user())).await().stream()
        .mapToLong(SessionView::bytesToClient).sum();
  }

  private static int openConnections(PosternFixture server) {
    return server.server().shared().limits().open();
  }

  /** Reads until the end: {@code fin} for an orderly end of stream, {@code reset} for an RST. */
  private static String endOfStream(Socket socket) throws IOException {
    socket.setSoTimeout(30_000);
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[1 << 16];
    try {
      while (in.read(buf) >= 0) {
        // Drop what was queued before the end.
      }
      return "fin";
    } catch (SocketException e) {
      if (String.valueOf(e.getMessage()).contains("Connection reset")) {
        return "reset";
      }
      throw e;
    }
  }

  /** Postern's sockets on {@code port} in FIN-WAIT-1 ({@code ss}); none if ss is missing. */
  private static List<String> finWait1(int port) throws Exception {
    ProcessResult ss;
    try {
      ss = ExternalCommand.run(List.of("ss", "-Htn", "state", "fin-wait-1", "sport", "=",
          ":" + port), Duration.ofSeconds(10));
    } catch (IOException noSs) {
      return List.of();
    }
    assertThat(ss.exitCode()).as(ss.toString()).isZero();
    return ss.stdout().lines().filter(l -> !l.isBlank()).toList();
  }
}
