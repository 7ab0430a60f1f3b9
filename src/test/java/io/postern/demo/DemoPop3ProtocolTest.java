package io.postern.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** POP3 edge cases driven over a raw socket. */
class DemoPop3ProtocolTest {

  private static final String PLAIN_DEMO =
      Base64.getEncoder().encodeToString("\0demo\0demo".getBytes(StandardCharsets.UTF_8));

  private static MailboxFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    fixture = MailboxFixture.start();
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  private static RawClient connect() throws IOException {
    RawClient client = new RawClient(fixture.pop3Port());
    assertThat(client.line()).isEqualTo("+OK Postern demo mailbox ready.");
    return client;
  }

  private static RawClient loggedIn() throws IOException {
    RawClient client = connect();
    client.send("USER demo\r\nPASS demo\r\n");
    assertThat(client.line()).startsWith("+OK");
    assertThat(client.line()).startsWith("+OK");
    return client;
  }

  @Test
  void capaListsTheExtensions() throws IOException {
    try (RawClient client = connect()) {
      client.send("CAPA\r\n");

      assertThat(client.line()).startsWith("+OK");
      assertThat(new String(client.dotTerminated(), StandardCharsets.US_ASCII))
          .isEqualTo("USER\r\nSASL PLAIN\r\nUIDL\r\nTOP\r\nRESP-CODES\r\nPIPELINING\r\n");
    }
  }

  @Test
  void authPlainWithInitialResponseAndWithContinuation() throws IOException {
    try (RawClient client = connect()) {
      client.send("AUTH PLAIN " + PLAIN_DEMO + "\r\n");
      assertThat(client.line()).isEqualTo("+OK Logged in, 3 messages.");
    }
    try (RawClient client = connect()) {
      client.send("AUTH PLAIN\r\n");
      assertThat(client.line()).isEqualTo("+ ");
      client.send(PLAIN_DEMO + "\r\n");
      assertThat(client.line()).isEqualTo("+OK Logged in, 3 messages.");
    }
  }

  @Test
  void wrongPasswordAndCommandsBeforeLogin() throws IOException {
    try (RawClient client = connect()) {
      client.send("STAT\r\nPASS demo\r\nUSER demo\r\nPASS wrong\r\nXYZZY\r\n");

      assertThat(client.line()).isEqualTo("-ERR Command not valid in this state.");
      assertThat(client.line()).isEqualTo("-ERR Send USER first.");
      assertThat(client.line()).startsWith("+OK");
      assertThat(client.line()).isEqualTo("-ERR [AUTH] Authentication failed.");
      assertThat(client.line()).isEqualTo("-ERR Unknown command.");
    }
  }

  @Test
  void retrDotStuffsAndTerminates() throws IOException {
    try (RawClient client = loggedIn()) {
      DemoMessage message = DemoMessages.ALL.get(2);
      client.send("RETR 3\r\n");

      assertThat(client.line()).isEqualTo("+OK " + message.size() + " octets");
      String stuffed = new String(client.dotTerminated(), StandardCharsets.UTF_8);
      assertThat(stuffed).contains("\r\n..\r\n...and this one.\r\n");
      String unstuffed = stuffed.replace("\r\n..", "\r\n.");
      assertThat(unstuffed.getBytes(StandardCharsets.UTF_8)).isEqualTo(message.raw());
    }
  }

  @Test
  void topSendsHeaderAndRequestedLines() throws IOException {
    try (RawClient client = loggedIn()) {
      DemoMessage message = DemoMessages.ALL.get(0);
      client.send("TOP 1 1\r\n");

      assertThat(client.line()).startsWith("+OK");
      String expected =
          new String(message.header(), StandardCharsets.UTF_8)
              + "Hello, and welcome to Postern!\r\n";
      assertThat(new String(client.dotTerminated(), StandardCharsets.UTF_8)).isEqualTo(expected);
    }
  }

  @Test
  void deleIsPerSessionAndUndoneByRset() throws IOException {
    try (RawClient first = loggedIn();
        RawClient second = loggedIn()) {
      first.send("DELE 2\r\nRETR 2\r\nLIST 2\r\nSTAT\r\n");
      assertThat(first.line()).isEqualTo("+OK Message 2 deleted.");
      assertThat(first.line()).isEqualTo("-ERR No such message.");
      assertThat(first.line()).isEqualTo("-ERR No such message.");
      int remaining = DemoMessages.ALL.get(0).size() + DemoMessages.ALL.get(2).size();
      assertThat(first.line()).isEqualTo("+OK 2 " + remaining);

      second.send("LIST 2\r\n");
      assertThat(second.line()).isEqualTo("+OK 2 " + DemoMessages.ALL.get(1).size());

      first.send("RSET\r\nUIDL 2\r\nQUIT\r\n");
      assertThat(first.line()).startsWith("+OK");
      assertThat(first.line()).isEqualTo("+OK 2 postern-demo-1704067200-2");
      assertThat(first.line()).isEqualTo("+OK Postern demo mailbox signing off.");
      assertThat(first.closedByServer()).isTrue();
    }
  }

  @Test
  void pipelinedRetrievalsAllArriveInOrder() throws Exception {
    int count = 2_000;
    DemoMessage message = DemoMessages.ALL.get(2);
    try (RawClient client = loggedIn()) {
      // Written from another thread: the server stops reading while its write queue is full, so
      // a client that writes everything before reading would deadlock with it.
      var writer =
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                try {
                  client.send("RETR 3\r\n".repeat(count) + "NOOP\r\n");
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      for (int i = 0; i < count; i++) {
        assertThat(client.line()).isEqualTo("+OK " + message.size() + " octets");
        assertThat(client.dotTerminated()).hasSize(message.size() + 2);
      }
      assertThat(client.line()).isEqualTo("+OK");
      writer.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void overLongLineIsRefusedAndTheConnectionClosed() throws IOException {
    try (RawClient client = connect()) {
      client.send("USER " + "x".repeat(DemoPop3Session.MAX_LINE) + "\r\n");

      assertThat(client.line()).isEqualTo("-ERR Line too long.");
      assertThat(client.closedByServer()).isTrue();
    }
  }
}
