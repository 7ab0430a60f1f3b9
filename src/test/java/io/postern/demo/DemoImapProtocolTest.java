package io.postern.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** IMAP edge cases driven over a raw socket. */
class DemoImapProtocolTest {

  private static final String GREETING =
      "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR LITERAL+ ID IDLE] Postern demo mailbox ready.";
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
    RawClient client = new RawClient(fixture.imapPort());
    assertThat(client.line()).isEqualTo(GREETING);
    return client;
  }

  private static RawClient selected(String command) throws IOException {
    RawClient client = connect();
    client.send("l LOGIN demo demo\r\n").untilTagged("l");
    assertThat(client.send("s " + command + " INBOX\r\n").untilTagged("s")).contains("s OK");
    return client;
  }

  @Test
  void loginWithSynchronizingAndNonSynchronizingLiterals() throws IOException {
    try (RawClient client = connect()) {
      client.send("a1 LOGIN {4}\r\n");
      assertThat(client.line()).startsWith("+ ");
      client.send("demo {4+}\r\ndemo\r\n");

      assertThat(client.line()).startsWith("a1 OK [CAPABILITY IMAP4rev1");
    }
  }

  @Test
  void loginWithQuotedPasswordAndWrongPassword() throws IOException {
    try (RawClient client = connect()) {
      client.send("a1 LOGIN demo \"wrong\"\r\n");
      assertThat(client.line()).isEqualTo("a1 NO [AUTHENTICATIONFAILED] Authentication failed.");

      client.send("a2 LOGIN \"demo\" \"demo\"\r\n");
      assertThat(client.line()).startsWith("a2 OK ");
    }
  }

  @Test
  void authenticatePlainWithContinuationAndWithInitialResponse() throws IOException {
    try (RawClient client = connect()) {
      client.send("a1 AUTHENTICATE PLAIN\r\n");
      assertThat(client.line()).isEqualTo("+ ");
      client.send("*\r\n");
      assertThat(client.line()).isEqualTo("a1 BAD Authentication cancelled.");

      client.send("a2 AUTHENTICATE PLAIN\r\n");
      assertThat(client.line()).isEqualTo("+ ");
      client.send(PLAIN_DEMO + "\r\n");
      assertThat(client.line()).startsWith("a2 OK [CAPABILITY ");
    }
    try (RawClient client = connect()) {
      client.send("b1 AUTHENTICATE PLAIN " + PLAIN_DEMO + "\r\n");
      assertThat(client.line()).startsWith("b1 OK ");
    }
  }

  @Test
  void unknownCommandsAndCommandsInTheWrongStateAreBad() throws IOException {
    try (RawClient client = connect()) {
      client.send("a1 FROBNICATE\r\n\r\na2 SELECT INBOX\r\na3 CAPABILITY\r\n");

      assertThat(client.line()).isEqualTo("a1 BAD Unknown command.");
      assertThat(client.line()).isEqualTo("* BAD Missing or invalid tag.");
      assertThat(client.line()).isEqualTo("a2 BAD Log in first.");
      assertThat(client.line())
          .isEqualTo("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR LITERAL+ ID IDLE");
      assertThat(client.line()).isEqualTo("a3 OK CAPABILITY completed.");
    }
  }

  @Test
  void overLongLineIsRefusedAndTheConnectionClosed() throws IOException {
    try (RawClient client = connect()) {
      client.send("a1 NOOP " + "x".repeat(DemoImapSession.MAX_LINE) + "\r\n");

      assertThat(client.line()).isEqualTo("* BAD Line too long.");
      assertThat(client.line()).startsWith("* BYE ");
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void tooLargeSynchronizingLiteralIsRefusedWithoutClosing() throws IOException {
    try (RawClient client = connect()) {
      client.send("a1 LOGIN demo {" + (DemoImapSession.MAX_LITERAL + 1) + "}\r\n");
      assertThat(client.line()).isEqualTo("a1 BAD Literal too large.");

      client.send("a2 NOOP\r\n");
      assertThat(client.line()).isEqualTo("a2 OK NOOP completed.");
    }
  }

  @Test
  void tooLargeNonSynchronizingLiteralClosesTheConnection() throws IOException {
    try (RawClient client = connect()) {
      client.send("a1 LOGIN demo {" + (DemoImapSession.MAX_LITERAL + 1) + "+}\r\n");

      assertThat(client.line()).startsWith("* BYE ");
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void fetchSendsExactLiteralsAndSetsSeenOnlyWithoutPeek() throws IOException {
    try (RawClient client = selected("SELECT")) {
      byte[] message = DemoMessages.ALL.get(1).raw();
      client.send("f1 FETCH 2 (UID BODY.PEEK[])\r\n");
      assertThat(client.line()).isEqualTo("* 2 FETCH (UID 2 BODY[] {" + message.length + "}");
      assertThat(client.bytes(message.length)).isEqualTo(message);
      assertThat(client.line()).isEqualTo(")");
      assertThat(client.line()).isEqualTo("f1 OK FETCH completed.");

      client.send("f2 FETCH 2 FLAGS\r\n");
      assertThat(client.untilTagged("f2")).contains("* 2 FETCH (FLAGS ())");

      client.send("f3 FETCH 2 BODY[TEXT]\r\n");
      assertThat(client.untilTagged("f3")).startsWith("* 2 FETCH (FLAGS (\\Seen) BODY[TEXT] {");
    }
  }

  @Test
  void examineNeverChangesFlags() throws IOException {
    try (RawClient client = selected("EXAMINE")) {
      client.send("f1 FETCH 1 RFC822\r\nf2 FETCH 1 FLAGS\r\nf3 STORE 1 +FLAGS \\Seen\r\n");

      assertThat(client.untilTagged("f1")).doesNotContain("\\Seen");
      assertThat(client.untilTagged("f2")).contains("* 1 FETCH (FLAGS ())");
      assertThat(client.untilTagged("f3")).contains("f3 NO [READ-ONLY]");
    }
  }

  @Test
  void sequenceSetsSelectTheRightMessages() throws IOException {
    try (RawClient client = selected("EXAMINE")) {
      assertThat(client.send("a FETCH 1,3 UID\r\n").untilTagged("a"))
          .isEqualTo("* 1 FETCH (UID 1)\r\n* 3 FETCH (UID 3)\r\na OK FETCH completed.\r\n");
      assertThat(client.send("b FETCH * UID\r\n").untilTagged("b"))
          .isEqualTo("* 3 FETCH (UID 3)\r\nb OK FETCH completed.\r\n");
      assertThat(client.send("c FETCH 3:2 UID\r\n").untilTagged("c"))
          .isEqualTo("* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\nc OK FETCH completed.\r\n");
      assertThat(client.send("d UID FETCH 9:* FLAGS\r\n").untilTagged("d"))
          .isEqualTo("* 3 FETCH (UID 3 FLAGS ())\r\nd OK UID FETCH completed.\r\n");
      assertThat(client.send("e FETCH 4 UID\r\n").untilTagged("e"))
          .isEqualTo("e BAD Invalid message sequence number.\r\n");
      assertThat(client.send("f FETCH 1 (UID BOGUS)\r\n").untilTagged("f")).startsWith("f BAD ");
    }
  }

  @Test
  void fetchItemsAndMacrosAreWellFormed() throws IOException {
    try (RawClient client = selected("EXAMINE")) {
      String fast = client.send("a FETCH 1 FAST\r\n").untilTagged("a");
      assertThat(fast)
          .startsWith(
              "* 1 FETCH (FLAGS () INTERNALDATE \"01-Jan-2024 09:00:00 +0000\" RFC822.SIZE "
                  + DemoMessages.ALL.get(0).size()
                  + ")");

      String fields =
          client.send("b FETCH 3 BODY.PEEK[HEADER.FIELDS (SUBJECT DATE)]\r\n").untilTagged("b");
      String expected =
          "Date: Wed, 03 Jan 2024 14:15:00 +0000\r\n"
              + "Subject: Notes for trying Postern (with attachment)\r\n\r\n";
      assertThat(fields)
          .startsWith(
              "* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT DATE)] {"
                  + expected.length()
                  + "}\r\n"
                  + expected
                  + ")");

      String part = client.send("c FETCH 3 (BODY.PEEK[2] BODY.PEEK[2.MIME])\r\n").untilTagged("c");
      assertThat(part).contains("..and this one.").contains("name=\"notes.txt\"");

      String full = client.send("d FETCH 2 FULL\r\n").untilTagged("d");
      assertThat(full)
          .contains("ENVELOPE (\"Tue, 02 Jan 2024 10:30:00 +0100\" \"=?UTF-8?B?")
          .contains("BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"8BIT\"");
    }
  }

  @Test
  void searchEvaluatesKeysAndRefusesUnknownOnes() throws IOException {
    try (RawClient client = selected("SELECT")) {
      client.send("a STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
      assertThat(client.untilTagged("a")).isEqualTo("a OK STORE completed.\r\n");

      assertThat(client.send("b SEARCH FLAGGED\r\n").untilTagged("b")).startsWith("* SEARCH 2\r\n");
      assertThat(client.send("c UID SEARCH OR 1 3\r\n").untilTagged("c"))
          .startsWith("* SEARCH 1 3\r\n");
      byte[] zurich = "Z\u00fcrich".getBytes(StandardCharsets.UTF_8);
      client.send("d SEARCH CHARSET UTF-8 SUBJECT {" + zurich.length + "+}\r\n");
      client.send(zurich).send("\r\n");
      assertThat(client.untilTagged("d")).startsWith("* SEARCH 2\r\n");
      assertThat(client.send("e SEARCH NOT SEEN SINCE 2-Jan-2024\r\n").untilTagged("e"))
          .startsWith("* SEARCH 2 3\r\n");
      assertThat(client.send("f SEARCH FUZZY cats\r\n").untilTagged("f"))
          .isEqualTo("f BAD Unsupported search key FUZZY.\r\n");
      assertThat(client.send("g SEARCH CHARSET KOI8-R ALL\r\n").untilTagged("g"))
          .startsWith("g NO [BADCHARSET");
    }
  }

  @Test
  void expungeIsPerSession() throws IOException {
    try (RawClient first = selected("SELECT");
        RawClient second = selected("SELECT")) {
      first.send("a STORE 1:2 +FLAGS (\\Deleted)\r\n").untilTagged("a");
      assertThat(first.send("b EXPUNGE\r\n").untilTagged("b"))
          .isEqualTo("* 1 EXPUNGE\r\n* 1 EXPUNGE\r\nb OK EXPUNGE completed.\r\n");
      assertThat(first.send("c FETCH 1:* UID\r\n").untilTagged("c"))
          .isEqualTo("* 1 FETCH (UID 3)\r\nc OK FETCH completed.\r\n");

      assertThat(second.send("d STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)\r\n").untilTagged("d"))
          .startsWith("* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1704067200)\r\n");
    }
  }

  @Test
  void idleEndsWithDone() throws IOException {
    try (RawClient client = selected("SELECT")) {
      client.send("i IDLE\r\n");
      assertThat(client.line()).isEqualTo("+ idling");
      client.send("DONE\r\n");
      assertThat(client.line()).isEqualTo("i OK IDLE terminated.");
    }
  }

  @Test
  void listLsubCloseUnselectAndLogout() throws IOException {
    try (RawClient client = selected("SELECT")) {
      assertThat(client.send("a LIST \"\" \"\"\r\n").untilTagged("a"))
          .startsWith("* LIST (\\Noselect) \"/\" \"\"\r\n");
      assertThat(client.send("b LIST \"\" %\r\n").untilTagged("b"))
          .startsWith("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
      assertThat(client.send("c LSUB \"\" *\r\n").untilTagged("c"))
          .startsWith("* LSUB () \"/\" INBOX\r\n");
      assertThat(client.send("d LIST \"\" Archive\r\n").untilTagged("d"))
          .isEqualTo("d OK LIST completed.\r\n");
      assertThat(client.send("e SELECT Archive\r\n").untilTagged("e"))
          .startsWith("e NO [NONEXISTENT]");
      assertThat(client.send("f FETCH 1 UID\r\n").untilTagged("f"))
          .isEqualTo("f BAD No mailbox selected.\r\n");
      client.send("g SELECT INBOX\r\n").untilTagged("g");
      assertThat(client.send("h UNSELECT\r\n").untilTagged("h"))
          .isEqualTo("h OK UNSELECT completed.\r\n");
      client.send("i SELECT INBOX\r\n").untilTagged("i");
      assertThat(client.send("j CLOSE\r\n").untilTagged("j"))
          .isEqualTo("j OK CLOSE completed.\r\n");
      assertThat(client.send("k ID (\"name\" \"test\")\r\n").untilTagged("k"))
          .startsWith("* ID (\"name\" \"Postern demo mailbox\")\r\n");

      assertThat(client.send("z LOGOUT\r\n").untilTagged("z"))
          .isEqualTo("* BYE Postern demo mailbox signing off.\r\nz OK LOGOUT completed.\r\n");
      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void idleConnectionsAreClosed() throws Exception {
    try (MailboxFixture quick = MailboxFixture.start(Duration.ofMillis(300));
        RawClient client = new RawClient(quick.imapPort())) {
      assertThat(client.line()).isEqualTo(GREETING);

      assertThat(client.closedByServer()).isTrue();
    }
  }

  @Test
  void closeStopsTheListeners() throws Exception {
    MailboxFixture own = MailboxFixture.start();
    int port = own.imapPort();
    own.close();

    assertThat(tryConnect(port)).isFalse();
  }

  @Test
  void closeAlsoEndsOpenConnections() throws Exception {
    MailboxFixture own = MailboxFixture.start();
    try (RawClient client = new RawClient(own.imapPort())) {
      assertThat(client.line()).isEqualTo(GREETING);
      own.close();

      assertThat(client.closedByServer()).isTrue();
    }
  }

  private static boolean tryConnect(int port) {
    try (RawClient client = new RawClient(port)) {
      return !client.closedByServer();
    } catch (IOException e) {
      return false;
    }
  }
}
