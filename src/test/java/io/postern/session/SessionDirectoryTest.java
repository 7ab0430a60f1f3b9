package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.postern.testing.BackendScripts;
import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import io.postern.testing.LogCapture;
import io.postern.testing.MailClient;
import io.postern.testing.PosternFixture;
import io.postern.testing.TestTls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live-session directory as the admin API and a drain use it: every session listed with
 * what an operator asks about, and ended the way each protocol allows: before login the
 * goodbye at once, an IMAP relay between two backend responses with {@code * BYE}, never
 * inside a literal, a POP3 relay closed; the log line says why.
 */
class SessionDirectoryTest {

  private static final String LITERAL = "0123456789abcdefghij";
  private static final String KICKED =
      "* BYE [UNAVAILABLE] Session ended by the server, please reconnect.";

  @TempDir
  Path dir;

  private final CountDownLatch rest = new CountDownLatch(1);
  private LogCapture logs;
  private FakeBackend imap;
  private FakeBackend pop3;
  private PosternFixture postern;

  /** After login: FETCH sends half a literal, and the rest once the test says; else OK. */
  private BackendScripts.AfterLogin fetchInTwoHalves() {
    return c -> {
      while (true) {
        String line = c.readLine();
        String tag = line.split(" ", 2)[0];
        if (line.contains("FETCH")) {
          c.send("* 1 FETCH (BODY[] {" + LITERAL.length() + "}\r\n" + LITERAL.substring(0, 10));
          rest.await();
          c.send(LITERAL.substring(10) + ")\r\n" + tag + " OK FETCH done\r\n* 2 EXISTS\r\n");
        } else {
          c.send(tag + " OK done\r\n");
        }
      }
    };
  }

  @BeforeEach
  void start() throws Exception {
    logs = LogCapture.start();
    imap = FakeBackend.start(BackendScripts.imap("IMAP4rev1", "alice", "pw",
        fetchInTwoHalves()), TestTls.shared("localhost"));
    pop3 = FakeBackend.start(BackendScripts.pop3("USER\r\n", "alice", "pw",
        BackendScripts.pop3Commands()), TestTls.shared("localhost"));
    postern = PosternFixture.builder(dir).user("alice", "pw").user("bob", "pw")
        .backend(imap.port(), pop3.port()).start();
  }

  @AfterEach
  void stop() throws Exception {
    rest.countDown();
    postern.close();
    imap.close();
    pop3.close();
    logs.stop();
  }

  private SessionDirectory sessions() {
    return postern.server().shared().sessions();
  }

  private Conversation loggedIn() throws Exception {
    Conversation c = MailClient.implicitTls(postern.port("imaps"), postern.tls());
    c.expect("* OK");
    c.send("a LOGIN alice pw\r\n");
    c.expect("a OK");
    return c;
  }

  private List<String> sessionLines() {
    return logs.lines().stream().filter(l -> l.startsWith("session=")).toList();
  }

  @Test
  void listShouldShowEachSessionWithWhatAnOperatorAsksAbout() throws Exception {
    try (Conversation alice = loggedIn();
        Conversation waiting = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      waiting.expect("+OK");
      alice.send("b NOOP\r\n");
      alice.expect("b OK");
      List<SessionView> all = sessions().list(v -> true).await();
      assertThat(all).hasSize(2);
      SessionView a = all.stream().filter(SessionView::loggedIn).findFirst().orElseThrow();
      assertThat(a.user()).isEqualTo("alice");
      assertThat(a.clientIp()).isEqualTo("127.0.0.1");
      assertThat(a.clientPort()).isEqualTo(alice.socket().getLocalPort());
      assertThat(a.listener()).isEqualTo("imaps");
      assertThat(a.protocol()).isEqualTo("imap");
      assertThat(a.backend()).isEqualTo("default");
      assertThat(a.server()).isNotNull();
      assertThat(a.tls()).startsWith("TLSv1.");
      assertThat(a.bytesToBackend()).isEqualTo("b NOOP\r\n".length());
      assertThat(a.bytesToClient()).isEqualTo("b OK done\r\n".length());
      SessionView w = all.stream().filter(v -> !v.loggedIn()).findFirst().orElseThrow();
      assertThat(w.listener()).isEqualTo("pop3s");
      assertThat(w.user()).isNull();
      assertThat(sessions().list(v -> "bob".equals(v.user())).await()).isEmpty();
    }
    // Gone from the list once their log lines are written.
    await().atMost(Duration.ofSeconds(10)).until(() ->
        sessions().list(v -> true).await().isEmpty());
  }

  @Test
  void endShouldSayByeToAnImapSessionBetweenResponsesAndLogTheResult() throws Exception {
    try (Conversation alice = loggedIn();
        Conversation before = MailClient.implicitTls(postern.port("imaps"), postern.tls())) {
      before.expect("* OK");
      assertThat(sessions().end(v -> true, "kicked", Duration.ZERO).await()).isEqualTo(2);
      assertThat(alice.readLine()).isEqualTo(KICKED);
      assertThat(alice.closedByPeer(5000)).isTrue();
      assertThat(before.readLine()).isEqualTo(KICKED);
      assertThat(before.closedByPeer(5000)).isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sessionLines().size() == 2);
    assertThat(sessionLines()).allSatisfy(l -> assertThat(l).contains(" result=kicked "));
  }

  @Test
  void endShouldWaitForTheLiteralUnderWayAndPassNothingAfterItsResponse() throws Exception {
    try (Conversation alice = loggedIn()) {
      alice.send("f FETCH 1 BODY[]\r\n");
      alice.expect("* 1 FETCH (BODY[] {20}");
      assertThat(new String(alice.readBytes(10), StandardCharsets.ISO_8859_1))
          .isEqualTo(LITERAL.substring(0, 10));
      sessions().end(v -> true, "kicked", Duration.ZERO).await();
      assertThat(alice.available(300)).as("nothing inside the literal").isEmpty();
      rest.countDown();
      assertThat(new String(alice.readBytes(10), StandardCharsets.ISO_8859_1))
          .isEqualTo(LITERAL.substring(10));
      assertThat(alice.readLine()).isEqualTo(")");
      // The response ended: the goodbye, and nothing the backend sent after it.
      assertThat(alice.readLine()).isEqualTo(KICKED);
      assertThat(alice.closedByPeer(5000)).isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sessionLines().size() == 1);
    assertThat(sessionLines().get(0)).contains(" result=kicked ");
  }

  @Test
  void aResponseThatNeverEndsShouldBeClosedWithoutByeWhenTheGraceIsOver() throws Exception {
    try (Conversation alice = loggedIn()) {
      alice.send("f FETCH 1 BODY[]\r\n");
      alice.expect("* 1 FETCH (BODY[] {20}");
      alice.readBytes(10);
      long asked = System.nanoTime();
      sessions().end(v -> true, "kicked", Duration.ZERO).await();
      // The fixture's shutdown grace (1 s) bounds the wait; then a close, no BYE.
      assertThat(alice.closedByPeer(10_000)).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - asked)).isBetween(
          Duration.ofMillis(900), Duration.ofSeconds(8));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sessionLines().size() == 1);
    assertThat(sessionLines().get(0)).contains(" result=kicked ");
  }

  @Test
  void aLoggedInPop3SessionShouldBeClosedWithoutAnUnaskedReply() throws Exception {
    try (Conversation c = MailClient.implicitTls(postern.port("pop3s"), postern.tls())) {
      c.expect("+OK");
      c.send("USER alice\r\n");
      c.expect("+OK");
      c.send("PASS pw\r\n");
      c.expect("+OK");
      c.send("STAT\r\n");
      c.expect("+OK STAT");
      sessions().end(v -> v.protocol().equals("pop3"), "drained", Duration.ZERO).await();
      assertThat(c.closedByPeer(5000)).as("closed, nothing said").isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> sessionLines().size() == 1);
    assertThat(sessionLines().get(0)).contains(" result=drained ");
  }

  @Test
  void endShouldSpreadLoggedInSessionsOverTheWindow() throws Exception {
    int n = 12;
    List<Conversation> clients = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        clients.add(loggedIn());
      }
      long asked = System.nanoTime();
      List<CompletableFuture<Long>> byes = new ArrayList<>();
      for (Conversation c : clients) {
        byes.add(CompletableFuture.supplyAsync(() -> {
          try {
            assertThat(c.readLine()).isEqualTo(KICKED);
            return (System.nanoTime() - asked) / 1_000_000;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }));
      }
      assertThat(sessions().end(v -> true, "drained", Duration.ofSeconds(2)).await())
          .isEqualTo(n);
      List<Long> millis = new ArrayList<>();
      for (CompletableFuture<Long> bye : byes) {
        millis.add(bye.get(10, TimeUnit.SECONDS));
      }
      millis.sort(null);
      // Slots at i * 2 s / 12: the first at once, the last after 1.83 s.
      assertThat(millis.get(0)).isLessThan(600);
      assertThat(millis.get(n - 1)).isBetween(1700L, 4000L);
      assertThat(millis.get(n / 2)).isBetween(700L, 2500L);
    } finally {
      for (Conversation c : clients) {
        c.close();
      }
    }
  }
}
