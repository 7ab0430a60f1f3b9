package io.postern.demo;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.it.Clients;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a newcomer sees of {@code --demo}: real clients (curl, Python's imaplib and poplib)
 * through Postern, with the demo account in front of the passwd-file and the GreenMail mailbox as
 * the default backend, read the three messages exactly as {@link DemoMessages} built them.
 */
class DemoMailboxTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir
  static Path dir;

  private static DemoMailbox mailbox;
  private static PosternFixture postern;

  @BeforeAll
  static void start() throws Exception {
    mailbox = DemoMailbox.start();
    postern = PosternFixture.builder(dir)
        // A configured user, logged in at the backend as the demo account.
        .passwdLine(PosternFixture.passwdLine("alice", "alice-secret", "destuser=demo pass=demo"))
        .backend(mailbox.imapPort(), mailbox.pop3Port())
        .wrapAuthenticator(DemoAuthenticator::new)
        .start();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (postern != null) {
        postern.close();
      }
    } finally {
      if (mailbox != null) {
        mailbox.close();
      }
    }
  }

  @Test
  void curlReadsTheThreeMessagesOverImapsByteForByte() throws Exception {
    String[] subjects = {"Welcome to Postern", "Grüße aus Zürich ✉",
        "Notes for trying Postern (with attachment)"};
    for (int uid = 1; uid <= 3; uid++) {
      ProcessResult r = Clients.curl(TIMEOUT, "-k", "-u", "demo:demo",
          "imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX;UID=" + uid);
      assertThat(r.exitCode()).as("UID %d: %s", uid, r).isZero();
      byte[] fetched = r.stdout().getBytes(ISO_8859_1);
      assertThat(fetched).as("UID %d", uid).isEqualTo(built(uid));
      assertThat(parse(fetched).getSubject()).isEqualTo(subjects[uid - 1]);
    }
  }

  @Test
  void imaplibOverStarttlsGetsMessageTwoAsRawUtf8() throws Exception {
    Path out = dir.resolve("imaplib-2.eml");
    ProcessResult r = python("imap_client.py", "imap", "starttls", "demo",
        "--fetch-uid", "2", "--out", out.toString());
    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(new JsonObject(r.stdout().trim()).getInteger("exists")).isEqualTo(3);
    byte[] fetched = Files.readAllBytes(out);
    assertThat(fetched).isEqualTo(built(2));
    // Spelled out here, not taken from DemoMessages: 8-bit UTF-8, not quoted-printable.
    assertThat(new String(fetched, ISO_8859_1))
        .contains("Content-Transfer-Encoding: 8bit\r\n")
        .contains(latin1("\r\n\r\nGrüße aus Zürich!\r\n"))
        .contains(latin1("  Ελληνικά: καλημέρα\r\n  日本語:   こんにちは\r\n"));
  }

  @Test
  void pop3ListsThreeMessagesAndPoplibGetsTheAttachmentWithItsDotLines() throws Exception {
    ProcessResult list = Clients.curl(TIMEOUT, "-k", "-u", "demo:demo",
        "pop3s://127.0.0.1:" + postern.port("pop3s") + "/");
    assertThat(list.exitCode()).as("%s", list).isZero();
    assertThat(list.stdout()).matches("1 \\d+\r\n2 \\d+\r\n3 \\d+\r\n");

    Path out = dir.resolve("poplib-3.eml");
    ProcessResult r = python("pop3_client.py", "pop3", "starttls", "demo",
        "--retr", "3", "--out", out.toString());
    assertThat(r.exitCode()).as("%s", r).isZero();
    byte[] retrieved = Files.readAllBytes(out);
    assertThat(retrieved).isEqualTo(built(3));
    Part notes = ((Multipart) parse(retrieved).getContent()).getBodyPart(1);
    assertThat(notes.getDisposition()).isEqualTo(Part.ATTACHMENT);
    assertThat(notes.getFileName()).isEqualTo("notes.txt");
    assertThat((String) notes.getContent()).startsWith("Postern demo notes\r\n")
        .endsWith("like the next two:\r\n.\r\n..and this one.\r\n");
  }

  @Test
  void aWrongPasswordIsRefused() throws Exception {
    ProcessResult curl = Clients.curl(TIMEOUT, "-k", "-u", "demo:wrong",
        "imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX");
    assertThat(curl.exitCode()).as("%s", curl).isEqualTo(67);
    ProcessResult poplib = python("pop3_client.py", "pop3s", "implicit", "wrong",
        "--expect-login-failure");
    assertThat(poplib.exitCode()).as("%s", poplib).isZero();
    assertThat(new JsonObject(poplib.stdout().trim()).getString("login")).isEqualTo("failed");
  }

  @Test
  void configuredUsersStillLogInBehindTheDemoAccount() throws Exception {
    ProcessResult r = Clients.curl(TIMEOUT, "-k", "-u", "alice:alice-secret",
        "imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX?ALL");
    assertThat(r.exitCode()).as("%s", r).isZero();
    assertThat(r.stdout()).isEqualTo("* SEARCH 1 2 3\r\n");
  }

  /**
   * A client script from {@code src/test/resources/clients/} as user {@code demo} on one of
   * Postern's listeners, trusting the fixture's certificate (made for localhost).
   */
  private static ProcessResult python(String script, String listener, String tls,
      String password, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("--host", "localhost", "--port",
        String.valueOf(postern.port(listener)), "--tls", tls, "--cafile",
        postern.tls().certPath().toString(), "--user", "demo", "--password", password));
    args.addAll(List.of(more));
    return Clients.python(TIMEOUT, script, args.toArray(String[]::new));
  }

  /** The message as the mailbox was given it. */
  private static byte[] built(int uid) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DemoMessages.all().get(uid - 1).writeTo(out);
    return out.toByteArray();
  }

  private static MimeMessage parse(byte[] message) throws Exception {
    return new MimeMessage(Session.getInstance(new Properties()),
        new ByteArrayInputStream(message));
  }

  /** UTF-8 text as curl's and the scripts' bytes appear in an ISO-8859-1 string. */
  private static String latin1(String text) {
    return new String(text.getBytes(UTF_8), ISO_8859_1);
  }
}
