package io.postern.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The demo mailbox driven by the real clients a newcomer would use: curl and Python. */
class DemoMailboxTest {

  private static MailboxFixture fixture;

  @TempDir static Path scripts;

  @BeforeAll
  static void start() throws Exception {
    fixture = MailboxFixture.start();
  }

  @AfterAll
  static void stop() throws Exception {
    fixture.close();
  }

  private static ExternalCommand.Result curl(String url, String... extra) throws IOException {
    ExternalCommand.require("curl", "curl", "--version");
    List<String> command =
        new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "30", "-u", "demo:demo"));
    command.addAll(List.of(extra));
    command.add(url);
    return ExternalCommand.run(command);
  }

  private static String imapUrl(String path) {
    return "imap://127.0.0.1:" + fixture.imapPort() + "/" + path;
  }

  private static String pop3Url(String path) {
    return "pop3://127.0.0.1:" + fixture.pop3Port() + "/" + path;
  }

  @Test
  void curlListsInbox() throws IOException {
    ExternalCommand.Result result = curl(imapUrl(""));

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdoutText()).isEqualTo("* LIST (\\HasNoChildren) \"/\" INBOX\r\n");
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3})
  void curlFetchesEachMessageByUidByteForByte(int uid) throws IOException {
    ExternalCommand.Result result = curl(imapUrl("INBOX;UID=" + uid));

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdout()).isEqualTo(DemoMessages.ALL.get(uid - 1).raw());
  }

  @Test
  void curlSearchesAll() throws IOException {
    ExternalCommand.Result result = curl(imapUrl("INBOX?ALL"));

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.stdoutText()).isEqualTo("* SEARCH 1 2 3\r\n");
  }

  @Test
  void curlCustomExamineShowsTheMailbox() throws IOException {
    ExternalCommand.Result result = curl(imapUrl(""), "-X", "EXAMINE INBOX");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(result.lines())
        .contains(
            "* 3 EXISTS",
            "* 0 RECENT",
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
            "* OK [UIDVALIDITY 1704067200] UIDs valid.",
            "* OK [UIDNEXT 4] Predicted next UID.");
  }

  @Test
  void curlRejectsWrongPassword() throws IOException {
    ExternalCommand.require("curl", "curl", "--version");
    ExternalCommand.Result result =
        ExternalCommand.run("curl", "-sS", "--max-time", "30", "-u", "demo:wrong", imapUrl(""));

    // 67: CURLE_LOGIN_DENIED.
    assertThat(result.exitCode()).isEqualTo(67);
  }

  @Test
  void curlListsPop3Messages() throws IOException {
    ExternalCommand.Result result = curl(pop3Url(""));

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    String expected =
        DemoMessages.ALL.stream()
            .map(m -> m.uid() + " " + m.size() + "\r\n")
            .collect(Collectors.joining());
    assertThat(result.stdoutText()).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3})
  void curlRetrievesEachPop3MessageByteForByte(int number) throws IOException {
    ExternalCommand.Result result = curl(pop3Url(Integer.toString(number)));

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    // Message 3 has lines starting with a dot: equality proves stuffing and unstuffing match.
    assertThat(result.stdout()).isEqualTo(DemoMessages.ALL.get(number - 1).raw());
  }

  @Test
  void pythonImaplibSessions() throws IOException {
    List<String> out = python("imap_client.py", fixture.imapPort());

    assertThat(out)
        .containsSubsequence(
            "welcome * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR LITERAL+ ID IDLE]"
                + " Postern demo mailbox ready.",
            "capability OK IMAP4rev1 AUTH=PLAIN SASL-IR LITERAL+ ID IDLE",
            "login OK",
            "select OK 3",
            "search-all OK 1 2 3",
            "search-subject OK 1",
            "peek 1 OK " + sha256(1),
            "peek 2 OK " + sha256(2),
            "peek 3 OK " + sha256(3),
            "meta-before 1 (FLAGS () UID 1 RFC822.SIZE " + size(1) + ")",
            "meta-before 2 (FLAGS () UID 2 RFC822.SIZE " + size(2) + ")",
            "meta-before 3 (FLAGS () UID 3 RFC822.SIZE " + size(3) + ")",
            "rfc822 1 OK " + sha256(1),
            "rfc822 2 OK " + sha256(2),
            "rfc822 3 OK " + sha256(3),
            "meta-after 1 (FLAGS (\\Seen) UID 1 RFC822.SIZE " + size(1) + ")",
            "meta-after 2 (FLAGS (\\Seen) UID 2 RFC822.SIZE " + size(2) + ")",
            "meta-after 3 (FLAGS (\\Seen) UID 3 RFC822.SIZE " + size(3) + ")",
            "uid-subject OK " + subjectLine(2),
            "uid-subject OK Subject: Notes for trying Postern (with attachment)",
            "uid-search OK 1 2 3",
            "header-text OK " + sha256(2),
            "noop OK",
            "logout BYE",
            "authenticate OK",
            // A new connection starts from unseen messages again.
            "fresh-flags 1 (FLAGS ())",
            "fresh-flags 2 (FLAGS ())",
            "fresh-flags 3 (FLAGS ())");
    assertThat(out)
        .anySatisfy(
            line ->
                assertThat(line)
                    .startsWith("bodystructure OK 3 (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\"")
                    .contains("(\"ATTACHMENT\" (\"FILENAME\" \"notes.txt\"))")
                    .contains("\"MIXED\" (\"BOUNDARY\" \"postern-demo-boundary\")"));
    assertThat(out)
        .contains(
            "envelope OK 1 (ENVELOPE (\"Mon, 01 Jan 2024 09:00:00 +0000\" \"Welcome to Postern\""
                + " ((\"Postern\" NIL \"postern\" \"demo.invalid\"))"
                + " ((\"Postern\" NIL \"postern\" \"demo.invalid\"))"
                + " ((\"Postern\" NIL \"postern\" \"demo.invalid\"))"
                + " ((\"Demo User\" NIL \"demo\" \"demo.invalid\")) NIL NIL NIL"
                + " \"<welcome-1@demo.invalid>\"))");
  }

  @Test
  void pythonPoplibSession() throws IOException {
    List<String> out = python("pop3_client.py", fixture.pop3Port());

    long total = DemoMessages.ALL.stream().mapToLong(DemoMessage::size).sum();
    assertThat(out)
        .containsExactly(
            "welcome +OK Postern demo mailbox ready.",
            "capa PIPELINING RESP-CODES SASL TOP UIDL USER",
            "user +OK Send your password.",
            "pass +OK Logged in, 3 messages.",
            "stat 3 " + total,
            "list 1 " + size(1) + " 2 " + size(2) + " 3 " + size(3),
            "uidl 1 postern-demo-1704067200-1 2 postern-demo-1704067200-2"
                + " 3 postern-demo-1704067200-3",
            "retr 1 " + sha256(1),
            "retr 2 " + sha256(2),
            "retr 3 " + sha256(3),
            "top0 3 " + sha256(DemoMessages.ALL.get(2).header()),
            "top2 1 " + sha256(topOfWelcome()),
            "dele +OK Message 1 deleted.",
            "stat-after-dele 2 " + (total - size(1)),
            "rset +OK 3 messages.",
            "stat-after-rset 3 " + total,
            "noop +OK",
            "quit +OK Postern demo mailbox signing off.");
  }

  private static List<String> python(String script, int port) throws IOException {
    ExternalCommand.require("python3", "python3", "--version");
    Path file = scripts.resolve(script);
    try (InputStream in = DemoMailboxTest.class.getResourceAsStream("/demo/" + script)) {
      assertThat(in).as(script).isNotNull();
      Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    ExternalCommand.Result result =
        ExternalCommand.run("python3", file.toString(), Integer.toString(port));
    assertThat(result.exitCode()).as(result.stderr()).isZero();
    return result.lines();
  }

  private static byte[] topOfWelcome() {
    DemoMessage welcome = DemoMessages.ALL.get(0);
    String body = new String(welcome.body(), StandardCharsets.UTF_8);
    int secondLineEnd = body.indexOf("\r\n", body.indexOf("\r\n") + 2) + 2;
    byte[] header = welcome.header();
    byte[] top = body.substring(0, secondLineEnd).getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[header.length + top.length];
    System.arraycopy(header, 0, all, 0, header.length);
    System.arraycopy(top, 0, all, header.length, top.length);
    return all;
  }

  private static String subjectLine(int uid) {
    return DemoMessages.ALL.get(uid - 1).mime().field("Subject").orElseThrow().raw().strip();
  }

  private static int size(int uid) {
    return DemoMessages.ALL.get(uid - 1).size();
  }

  private static String sha256(int uid) {
    return sha256(DemoMessages.ALL.get(uid - 1).raw());
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
