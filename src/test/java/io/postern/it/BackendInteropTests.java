package io.postern.it;

import static io.postern.it.TestMessages.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.TlsMode;
import io.postern.testing.OpensslCertificates;
import io.postern.testing.PosternFixture;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Store;
import jakarta.mail.event.MessageCountAdapter;
import jakarta.mail.event.MessageCountEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.eclipse.angus.mail.pop3.POP3Folder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Postern in front of a real mail server other than Dovecot, once per backend TLS mode (user
 * {@code plain} behind {@code tls: none}, {@code stls} behind {@code tls: starttls}, {@code tlsi}
 * behind {@code tls: implicit}, both verified against the server's certificate), with curl,
 * Python's imaplib/poplib and Jakarta Mail as the clients: what they fetch through Postern hashes
 * like what curl fetches straight from the server; 8-bit APPENDs arrive unchanged; IDLE sees a
 * message another connection adds; Jakarta Mail's POP3 gets UIDs and uses TOP.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class BackendInteropTests {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration IDLE_DEADLINE = Duration.ofSeconds(30);
  /** User name to the backend TLS mode Postern reaches their server with. */
  private static final Map<String, TlsMode> USERS = orderedUsers();
  private static final String SUBJECT = "small";
  private static final Pattern IDLE_CONTINUED = Pattern.compile("(?m)^\\w+ IDLE\\r?\\n\\+");

  @TempDir
  static Path dir;

  private MailBackend backend;
  private PosternFixture postern;
  private OpensslCertificates.Pair cert;

  private static Map<String, TlsMode> orderedUsers() {
    Map<String, TlsMode> users = new LinkedHashMap<>();
    users.put("plain", TlsMode.NONE);
    users.put("stls", TlsMode.STARTTLS);
    users.put("tlsi", TlsMode.IMPLICIT);
    return users;
  }

  /** Starts the server under test under {@code dir} with these users and passwords. */
  abstract MailBackend startBackend(Path dir, Map<String, String> usersAndPasswords)
      throws Exception;

  private static String password(String user) {
    return user + "-pw";
  }

  @BeforeAll
  void start() throws Exception {
    RealParts.require("curl");
    RealParts.require("python3");
    Map<String, String> passwords = new LinkedHashMap<>();
    USERS.keySet().forEach(user -> passwords.put(user, password(user)));
    backend = startBackend(dir.resolve("backend"), passwords);
    for (String user : USERS.keySet()) {
      DirectImap.append(backend.imapPort(), user, password(user), TestMessages.small());
    }
    cert = OpensslCertificates.localhost(Files.createDirectories(dir.resolve("tls")), "postern");
    PosternFixture.Builder builder = PosternFixture.builder(dir.resolve("postern"))
        .certificate(cert.cert(), cert.key())
        .backendTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(10));
    for (Map.Entry<String, TlsMode> user : USERS.entrySet()) {
      TlsMode tls = user.getValue();
      boolean implicit = tls == TlsMode.IMPLICIT;
      String name = user.getKey().equals("plain") ? "default" : user.getKey();
      builder.backend(name, implicit ? "localhost" : "127.0.0.1",
          implicit ? backend.imapsPort() : backend.imapPort(), tls,
          implicit ? backend.pop3sPort() : backend.pop3Port(), tls, true,
          tls == TlsMode.NONE ? null : backend.certificate());
      builder.passwdLine(PosternFixture.passwdLine(user.getKey(), password(user.getKey()),
          "backend=" + name));
    }
    postern = builder.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (postern != null) {
      postern.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  @Test
  @Order(1)
  void whatEveryClientFetchesThroughPosternShouldHashLikeAFetchStraightFromTheServer()
      throws Exception {
    for (String user : USERS.keySet()) {
      String what = backend.name() + ", " + user + " (backend tls " + USERS.get(user) + ")";
      String imapDirect = sha256(curl(user, "imap://127.0.0.1:" + backend.imapPort() + "/INBOX;UID=1", false));
      String pop3Direct = sha256(curl(user, "pop3://127.0.0.1:" + backend.pop3Port() + "/1", false));
      assertThat(imapDirect).as("%s: IMAP straight from the server", what)
          .isEqualTo(sha256(TestMessages.small()));

      assertThat(sha256(curl(user, "imaps://127.0.0.1:" + postern.port("imaps") + "/INBOX;UID=1", true)))
          .as("%s: curl IMAPS through Postern", what).isEqualTo(imapDirect);
      assertThat(sha256(curl(user, "pop3://127.0.0.1:" + postern.port("pop3") + "/1", true, "--ssl-reqd")))
          .as("%s: curl POP3+STLS through Postern", what).isEqualTo(pop3Direct);

      JsonObject imap = python("imap_client.py", user, "imap", "starttls", "--fetch-uid", "1");
      assertThat(imap.getString("sha256")).as("%s: imaplib through Postern: %s", what, imap)
          .isEqualTo(imapDirect);
      JsonObject pop3 = python("pop3_client.py", user, "pop3s", "implicit", "--retr", "1");
      assertThat(pop3.getString("sha256")).as("%s: poplib through Postern: %s", what, pop3)
          .isEqualTo(pop3Direct);

      JakartaMail jakarta = JakartaMail.session("imaps", postern.port("imaps"), cert.cert());
      try (Store store = jakarta.store()) {
        store.connect(user, password(user));
        Folder inbox = store.getFolder("INBOX");
        inbox.open(Folder.READ_ONLY);
        Message first = ((IMAPFolder) inbox).getMessageByUID(1);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        first.writeTo(bytes);
        assertThat(sha256(bytes.toByteArray())).as("%s: Jakarta Mail IMAPS through Postern", what)
            .isEqualTo(imapDirect);
        inbox.close(false);
      }
    }
  }

  @Test
  @Order(2)
  void eightBitAppendsThroughPosternShouldArriveByteForByte() throws Exception {
    for (String user : USERS.keySet()) {
      String what = backend.name() + ", " + user + " (backend tls " + USERS.get(user) + ")";
      byte[] message = utf8Message("appended by imaplib via " + user);
      Path file = dir.resolve("append-" + user + ".eml");
      Files.write(file, message);
      JsonObject appended = python("imap_client.py", user, "imaps", "implicit", "--append",
          file.toString());
      Long uid = appended.getLong("appenduid");
      assertThat(uid).as("%s: imaplib APPEND through Postern: %s", what, appended).isNotNull();
      assertThat(DirectImap.fetch(backend.imapPort(), user, password(user), uid))
          .as("%s: imaplib's 8-bit APPEND, fetched straight from the server", what)
          .isEqualTo(message);

      byte[] viaCurl = utf8Message("appended by curl via " + user);
      Files.write(file, viaCurl);
      ProcessResult r = Clients.curl(CLIENT_TIMEOUT, "--cacert", cert.cert().toString(),
          "-u", user + ":" + password(user), "--ssl-reqd", "-T", file.toString(),
          "imap://127.0.0.1:" + postern.port("imap") + "/INBOX");
      assertThat(r.exitCode()).as("%s: curl APPEND through Postern: %s", what, r).isZero();
      // curl's APPEND is the next message after imaplib's: UIDs grow by one per APPEND here.
      assertThat(DirectImap.fetch(backend.imapPort(), user, password(user), uid + 1))
          .as("%s: curl's 8-bit APPEND, fetched straight from the server", what)
          .isEqualTo(viaCurl);
    }
  }

  @Test
  @Order(3)
  void idleThroughPosternShouldSeeAMessageAnotherConnectionAdds() throws Exception {
    for (String user : USERS.keySet()) {
      String what = backend.name() + ", " + user + " (backend tls " + USERS.get(user) + ")";
      JakartaMail jakarta = JakartaMail.session("imaps", postern.port("imaps"), cert.cert());
      try (Store store = jakarta.store()) {
        store.connect(user, password(user));
        IMAPFolder inbox = (IMAPFolder) store.getFolder("INBOX");
        inbox.open(Folder.READ_ONLY);
        int before = inbox.getMessageCount();
        CompletableFuture<Integer> added = new CompletableFuture<>();
        inbox.addMessageCountListener(new MessageCountAdapter() {
          @Override
          public void messagesAdded(MessageCountEvent event) {
            added.complete(event.getMessages()[0].getMessageNumber());
          }
        });
        CompletableFuture<Void> idling = CompletableFuture.runAsync(() -> {
          try {
            // Returns once the server has told of a change (or IDLE ended otherwise).
            while (!added.isDone()) {
              inbox.idle(true);
            }
          } catch (MessagingException e) {
            added.completeExceptionally(e);
          }
        });
        // The client is in IDLE when its debug output shows the server's continuation.
        long deadline = System.nanoTime() + IDLE_DEADLINE.toNanos();
        while (!idleContinued(jakarta.debugOutput()) && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(idleContinued(jakarta.debugOutput())).as("%s: IDLE accepted: %s", what,
            jakarta.debugOutput()).isTrue();
        DirectImap.append(backend.imapPort(), user, password(user),
            utf8Message("delivered during IDLE to " + user));
        assertThat(added.get(IDLE_DEADLINE.toSeconds(), TimeUnit.SECONDS))
            .as("%s: the new message's number, seen in IDLE", what).isEqualTo(before + 1);
        // The idling thread may have gone back into IDLE before the event reached the listener:
        // a command from this thread makes Jakarta Mail end it (DONE) first.
        inbox.doCommand(protocol -> {
          protocol.noop();
          return null;
        });
        idling.get(IDLE_DEADLINE.toSeconds(), TimeUnit.SECONDS);
        inbox.close(false);
      }
    }
  }

  @Test
  @Order(4)
  void jakartaMailPop3ThroughPosternShouldGetUidsAndUseTop() throws Exception {
    for (String user : USERS.keySet()) {
      String what = backend.name() + ", " + user + " (backend tls " + USERS.get(user) + ")";
      String directUid = pop3Uid(JakartaMail.session("pop3", backend.pop3Port(), null), user);
      assertThat(directUid).as("%s: UIDL straight from the server", what).isNotNull();

      JakartaMail jakarta = JakartaMail.session("pop3s", postern.port("pop3s"), cert.cert());
      String uid = pop3Uid(jakarta, user);
      String exchange = jakarta.debugOutput();
      SoftAssertions soft = new SoftAssertions();
      soft.assertThat(uid).as("%s: Jakarta Mail's UID through Postern", what).isEqualTo(directUid);
      soft.assertThat(exchange).as("%s: Jakarta Mail read the headers with TOP:\n%s", what, exchange)
          .contains("TOP 1 0").doesNotContain("RETR 1");
      soft.assertAll();
    }
  }

  // Jakarta Mail's getUID for message 1 (it asks UIDL only if the CAPA it read before login
  // lists UIDL), and the subject (headers by TOP n 0 if that CAPA lists TOP, else by RETR).
  private String pop3Uid(JakartaMail jakarta, String user) throws Exception {
    try (Store store = jakarta.store()) {
      store.connect(user, password(user));
      POP3Folder inbox = (POP3Folder) store.getFolder("INBOX");
      inbox.open(Folder.READ_ONLY);
      Message first = inbox.getMessage(1);
      String uid = inbox.getUID(first);
      assertThat(first.getSubject()).isEqualTo(SUBJECT);
      inbox.close(false);
      return uid;
    }
  }

  private static boolean idleContinued(String debug) {
    // Angus logs the client's "D2 IDLE" and then the server's "+ ..." continuation line.
    return IDLE_CONTINUED.matcher(debug).find();
  }

  private byte[] curl(String user, String url, boolean throughPostern, String... extra)
      throws Exception {
    Path out = Files.createTempFile(dir, "curl-", ".eml");
    List<String> args = new ArrayList<>(List.of(extra));
    if (throughPostern) {
      args.addAll(List.of("--cacert", cert.cert().toString()));
    }
    args.addAll(List.of("-u", user + ":" + password(user), "-o", out.toString(), url));
    ProcessResult r = Clients.curl(CLIENT_TIMEOUT, args.toArray(String[]::new));
    assertThat(r.exitCode()).as("curl %s as %s: %s", url, user, r).isZero();
    return Files.readAllBytes(out);
  }

  private JsonObject python(String script, String user, String listener, String tls,
      String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of(
        "--host", "127.0.0.1", "--port", String.valueOf(postern.port(listener)), "--tls", tls,
        "--cafile", cert.cert().toString(), "--user", user, "--password", password(user)));
    args.addAll(List.of(extra));
    ProcessResult r = Clients.python(CLIENT_TIMEOUT, script, args.toArray(String[]::new));
    assertThat(r.exitCode()).as("%s as %s over %s: %s", script, user, listener, r).isZero();
    return new JsonObject(r.stdout().trim());
  }

  // UTF-8 in an 8bit body, CRLF line ends, a line POP3 would dot-stuff.
  private static byte[] utf8Message(String subject) {
    return String.join("\r\n",
        "From: Juergen <juergen@example.org>",
        "To: Zoe <zoe@example.org>",
        "Subject: " + subject,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Grüße aus Köln, 東京 und Zürich — ✓",
        ".a line that starts with a dot",
        "end",
        "").getBytes(StandardCharsets.UTF_8);
  }
}
