package io.postern.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.testing.Conversation;
import io.postern.testing.MailClient;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proves the auth_http test parts against each other with no Postern involved: Debian's nginx mail
 * proxy asks {@link NginxAuthService} about every login and relays to a real Dovecot, curl is the
 * client. What the service logs here is what nginx really sends, the reference for Postern's
 * {@code auth.source: http}.
 */
@Timeout(300)
class NginxAuthServiceIT {

  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(60);
  private static final String ALICE = "alice";
  private static final String ALICE_PASSWORD = "pw-1";
  private static final byte[] MESSAGE = ("From: sender@example.org\r\nTo: alice@example.org\r\n"
      + "Subject: through nginx\r\n\r\nRelayed by nginx mail, routed by auth_http.\r\n.dot-stuffed line\r\n")
      .getBytes(StandardCharsets.US_ASCII);

  @TempDir
  static Path temp;

  private static DovecotServer dovecot;
  private static NginxAuthService auth;
  private static NginxMailProxy nginx;

  @BeforeAll
  static void start() throws Exception {
    // Fails on CI / skips elsewhere before anything starts, if nginx is not there.
    RealParts.require("nginx");
    dovecot = DovecotServer.start(temp.resolve("dovecot"), Map.of(ALICE, ALICE_PASSWORD));
    dovecot.deliver(ALICE, MESSAGE);
    auth = NginxAuthService.start(temp.resolve("auth"), users());
    nginx = NginxMailProxy.start(temp.resolve("nginx"), auth.url());
  }

  @AfterAll
  static void stop() {
    if (nginx != null) {
      nginx.close();
    }
    if (auth != null) {
      auth.close();
    }
    if (dovecot != null) {
      dovecot.close();
    }
  }

  @BeforeEach
  void resetService() throws IOException {
    auth.writeUsers(users());
    auth.clearRequests();
  }

  private static Map<String, Map<String, Object>> users() {
    return Map.of(ALICE, NginxAuthService.user(ALICE_PASSWORD, "127.0.0.1", dovecot.imapPort(), dovecot.pop3Port()));
  }

  /** curl 7.88 always uses AUTHENTICATE when AUTH= is advertised; Python's imaplib sends LOGIN. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"curl AUTHENTICATE PLAIN", "curl AUTHENTICATE LOGIN", "imaplib LOGIN"})
  void imapLoginThroughNginxIsDecidedByTheService(String client) throws Exception {
    Path out = temp.resolve("imap-" + client.replace(' ', '-') + ".eml");

    ProcessResult result = client.startsWith("curl")
        ? Clients.curl(CLIENT_TIMEOUT, "--login-options", "AUTH=" + client.substring(client.lastIndexOf(' ') + 1),
            "-u", ALICE + ":" + ALICE_PASSWORD, "-o", out.toString(), imapUrl("/INBOX;UID=1"))
        : Clients.python(CLIENT_TIMEOUT, "imap_client.py", "--port", String.valueOf(nginx.imapPort()),
            "--tls", "none", "--user", ALICE, "--password", ALICE_PASSWORD, "--mech", "login",
            "--fetch-uid", "1", "--out", out.toString());

    assertThat(result.exitCode()).as("%s%n%s", result, diagnosis()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(MESSAGE);
    List<JsonObject> requests = auth.requests();
    assertThat(requests).hasSize(1);
    JsonObject request = requests.get(0);
    assertThat(request.getString("request_line")).isEqualTo("GET /auth HTTP/1.0");
    // Exactly these headers, in this order: any IMAP/POP3 mechanism in clear is "plain" to nginx.
    assertThat(NginxAuthService.headers(request)).containsExactly(
        Map.entry("host", "127.0.0.1"),
        Map.entry("auth-method", "plain"),
        Map.entry("auth-user", ALICE),
        Map.entry("auth-pass", ALICE_PASSWORD),
        Map.entry("auth-protocol", "imap"),
        Map.entry("auth-login-attempt", "1"),
        Map.entry("client-ip", "127.0.0.1"));
    assertThat(NginxAuthService.answer(request)).containsEntry("Auth-Status", "OK")
        .containsEntry("Auth-Port", String.valueOf(dovecot.imapPort()));
  }

  @Test
  void pop3LoginThroughNginxIsDecidedByTheService() throws Exception {
    Path out = temp.resolve("pop3.eml");

    ProcessResult result = Clients.curl(CLIENT_TIMEOUT,
        "-u", ALICE + ":" + ALICE_PASSWORD, "-o", out.toString(), "pop3://127.0.0.1:" + nginx.pop3Port() + "/1");

    assertThat(result.exitCode()).as("%s%n%s", result, diagnosis()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(MESSAGE);
    JsonObject request = single();
    assertThat(NginxAuthService.header(request, "Auth-Protocol")).contains("pop3");
    assertThat(NginxAuthService.header(request, "Auth-Method")).contains("plain");
    assertThat(NginxAuthService.header(request, "Auth-User")).contains(ALICE);
    assertThat(NginxAuthService.header(request, "Auth-Pass")).contains(ALICE_PASSWORD);
    assertThat(NginxAuthService.answer(request)).containsEntry("Auth-Port", String.valueOf(dovecot.pop3Port()));
  }

  @Test
  void wrongPasswordIsRefusedByTheServiceNotByDovecot() throws Exception {
    ProcessResult result = Clients.curl(CLIENT_TIMEOUT,
        "-u", ALICE + ":wrong", "-o", "/dev/null", imapUrl("/INBOX;UID=1"));

    // 67 is CURLE_LOGIN_DENIED.
    assertThat(result.exitCode()).as("%s", result).isEqualTo(67);
    JsonObject request = single();
    assertThat(request.getString("password")).isEqualTo("wrong");
    assertThat(NginxAuthService.answer(request)).containsExactly(Map.entry("Auth-Status", "Invalid login or password"));
    assertThat(nginx.errorLogText()).contains("client login failed: \"Invalid login or password\"");
  }

  /** With no Auth-Wait in the failure answer nginx sends the error text and hangs up. */
  @Test
  void withoutAuthWaitNginxClosesAfterTheFailure() throws Exception {
    try (Conversation c = MailClient.plain(nginx.imapPort(), null)) {
      assertThat(c.readLine()).startsWith("* OK");

      c.send("a LOGIN alice wrong\r\n");

      assertThat(c.readLine()).isEqualTo("a NO Invalid login or password");
      assertThat(c.socket().getInputStream().read()).as("end of stream").isEqualTo(-1);
    }
  }

  /**
   * The service re-reads its users file, and may rewrite the login: the client types a UTF-8 name
   * with a space and a password with '%', the service sends Dovecot's real credentials back.
   */
  @Test
  void rewrittenLoginAndNginxsEscaping() throws Exception {
    String frontUser = "Ålice Smith";
    String frontPassword = "p w%ü\"+";
    Map<String, Object> entry = new LinkedHashMap<>(
        NginxAuthService.user(frontPassword, "127.0.0.1", dovecot.imapPort(), dovecot.pop3Port()));
    entry.put("user", ALICE);
    entry.put("pass", ALICE_PASSWORD);
    auth.writeUsers(Map.of(frontUser, entry));
    // Through a config file: a non-ASCII argv would depend on the JVM's locale.
    Path config = temp.resolve("curl-utf8.conf");
    Files.writeString(config, "user = \"" + frontUser + ":" + frontPassword.replace("\"", "\\\"") + "\"\n",
        StandardCharsets.UTF_8);
    Path out = temp.resolve("rewritten.eml");

    ProcessResult result = Clients.curl(CLIENT_TIMEOUT, "-K", config.toString(),
        "-o", out.toString(), imapUrl("/INBOX;UID=1"));

    assertThat(result.exitCode()).as("%s%n%s", result, diagnosis()).isZero();
    assertThat(Files.readAllBytes(out)).isEqualTo(MESSAGE);
    JsonObject request = single();
    // nginx %-escapes only space, '%' and control bytes; UTF-8 and other ASCII go as they are.
    assertThat(rawBytes(request, "Auth-User")).isEqualTo("Ålice%20Smith".getBytes(StandardCharsets.UTF_8));
    assertThat(rawBytes(request, "Auth-Pass")).isEqualTo("p%20w%25ü\"+".getBytes(StandardCharsets.UTF_8));
    assertThat(request.getString("user")).isEqualTo(frontUser);
    assertThat(request.getString("password")).isEqualTo(frontPassword);
    assertThat(NginxAuthService.answer(request)).containsEntry("Auth-User", ALICE).containsEntry("Auth-Pass", ALICE_PASSWORD);

    // The next request sees a changed file: the old front password no longer works.
    entry.put("password", "changed");
    auth.writeUsers(Map.of(frontUser, entry));
    result = Clients.curl(CLIENT_TIMEOUT, "-K", config.toString(), "-o", "/dev/null", imapUrl("/INBOX;UID=1"));
    assertThat(result.exitCode()).as("%s", result).isEqualTo(67);
  }

  /**
   * A shared secret (auth_http_header) and Auth-Wait: after a wrong password nginx waits, sends the
   * error and lets the client try again on the same connection, counting Auth-Login-Attempt up. An
   * nginx without the secret is answered Forbidden.
   */
  @Test
  void sharedSecretAndAuthWait() throws Exception {
    NginxAuthService.Options options = NginxAuthService.Options.DEFAULT.withWait(1)
        .withRequiredHeader("X-Auth-Key", "s3cret");
    try (NginxAuthService guarded = NginxAuthService.start(temp.resolve("auth-guarded"), users(), options);
        NginxMailProxy withSecret = NginxMailProxy.start(temp.resolve("nginx-secret"), guarded.url(),
            List.of("auth_http_header X-Auth-Key s3cret;"));
        NginxMailProxy withoutSecret = NginxMailProxy.start(temp.resolve("nginx-nosecret"), guarded.url())) {
      List<String> lines = new ArrayList<>();
      long waitedNanos;
      try (Conversation c = MailClient.plain(withSecret.imapPort(), null)) {
        lines.add(c.readLine());
        long before = System.nanoTime();
        c.send("a LOGIN alice wrong\r\n");
        lines.add(c.readLine());
        waitedNanos = System.nanoTime() - before;
        c.send("b LOGIN alice " + ALICE_PASSWORD + "\r\n");
        lines.add(tagged(c, "b "));
        c.send("c LOGOUT\r\n");
      }

      assertThat(lines.get(1)).as("%s%n%s", lines, withSecret.errorLogText()).isEqualTo("a NO Invalid login or password");
      assertThat(Duration.ofNanos(waitedNanos)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
      assertThat(lines.get(2)).as("%s%n%s", lines, withSecret.errorLogText()).startsWith("b OK");
      List<JsonObject> requests = guarded.requests();
      assertThat(requests).hasSize(2);
      assertThat(NginxAuthService.answer(requests.get(0))).containsEntry("Auth-Wait", "1");
      assertThat(NginxAuthService.header(requests.get(0), "Auth-Login-Attempt")).contains("1");
      assertThat(NginxAuthService.header(requests.get(1), "Auth-Login-Attempt")).contains("2");
      // nginx sends its custom header after its own ones.
      assertThat(NginxAuthService.headers(requests.get(1))).containsEntry("x-auth-key", "s3cret");
      assertThat(List.copyOf(NginxAuthService.headers(requests.get(1)).keySet())).last().isEqualTo("x-auth-key");

      guarded.clearRequests();
      ProcessResult refused = Clients.curl(CLIENT_TIMEOUT,
          "-u", ALICE + ":" + ALICE_PASSWORD, "-o", "/dev/null",
          "imap://127.0.0.1:" + withoutSecret.imapPort() + "/INBOX;UID=1");
      assertThat(refused.exitCode()).as("%s", refused).isEqualTo(67);
      assertThat(NginxAuthService.answer(guarded.requests().get(0))).containsExactly(Map.entry("Auth-Status", "Forbidden"));
    }
  }

  /**
   * APOP and CRAM-MD5: nginx sends the client's digest and its challenge (Auth-Salt); the service
   * checks the digest against the plaintext and must send that plaintext back as Auth-Pass, which
   * nginx then uses for its USER/PASS or LOGIN to Dovecot.
   */
  @Test
  void apopAndCramMd5GetThePlaintextPasswordFromTheService() throws Exception {
    try (NginxMailProxy digests = NginxMailProxy.start(temp.resolve("nginx-digests"), auth.url(),
        List.of("pop3_auth plain apop cram-md5;", "imap_auth plain login cram-md5;"))) {
      String apopAnswer;
      try (Conversation c = MailClient.plain(digests.pop3Port(), null)) {
        String greeting = c.readLine();
        String salt = greeting.substring(greeting.indexOf('<'), greeting.indexOf('>') + 1);
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
            .digest((salt + ALICE_PASSWORD).getBytes(StandardCharsets.UTF_8)));
        c.send("APOP alice " + digest + "\r\nSTAT\r\nQUIT\r\n");
        apopAnswer = c.readLine() + " / " + c.readLine();
      }
      String cramAnswer;
      try (Conversation c = MailClient.plain(digests.imapPort(), null)) {
        c.readLine();
        c.send("a AUTHENTICATE CRAM-MD5\r\n");
        String challenge = new String(Base64.getDecoder().decode(c.readLine().substring(2)), StandardCharsets.US_ASCII);
        Mac hmac = Mac.getInstance("HmacMD5");
        hmac.init(new SecretKeySpec(ALICE_PASSWORD.getBytes(StandardCharsets.UTF_8), "HmacMD5"));
        String response = ALICE + " " + HexFormat.of().formatHex(hmac.doFinal(challenge.getBytes(StandardCharsets.US_ASCII)));
        c.send(Base64.getEncoder().encodeToString(response.getBytes(StandardCharsets.US_ASCII)) + "\r\n");
        cramAnswer = tagged(c, "a ");
        c.send("b LOGOUT\r\n");
      }

      assertThat(apopAnswer).as("%s", digests.errorLogText()).startsWith("+OK").contains(" / +OK 1 ");
      assertThat(cramAnswer).as("%s", digests.errorLogText()).startsWith("a OK");
      List<JsonObject> requests = auth.requests();
      assertThat(requests).hasSize(2);
      assertThat(NginxAuthService.header(requests.get(0), "Auth-Method")).contains("apop");
      assertThat(NginxAuthService.header(requests.get(0), "Auth-Salt")).hasValueSatisfying(
          salt -> assertThat(salt).matches("<\\d+\\.\\d+@localhost>"));
      assertThat(NginxAuthService.header(requests.get(1), "Auth-Method")).contains("cram-md5");
      assertThat(NginxAuthService.header(requests.get(1), "Auth-Pass")).hasValueSatisfying(
          digest -> assertThat(digest).matches("[0-9a-f]{32}"));
      for (JsonObject request : requests) {
        assertThat(NginxAuthService.answer(request)).containsEntry("Auth-Pass", ALICE_PASSWORD);
      }
    }
  }

  private static String imapUrl(String path) {
    return "imap://127.0.0.1:" + nginx.imapPort() + path;
  }

  private static JsonObject single() throws IOException {
    List<JsonObject> requests = auth.requests();
    assertThat(requests).as("auth requests").hasSize(1);
    return requests.get(0);
  }

  private static byte[] rawBytes(JsonObject request, String header) {
    return NginxAuthService.header(request, header).orElseThrow().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String diagnosis() throws IOException {
    return "auth requests: " + auth.requests() + "\nnginx error.log:\n" + nginx.errorLogText()
        + "\nauth service output:\n" + auth.output() + "\nDovecot log:\n" + dovecot.logText();
  }

  /** The tagged reply, after any untagged lines. */
  private static String tagged(Conversation c, String tag) throws IOException {
    List<String> lines = c.readUntil(tag);
    return lines.get(lines.size() - 1);
  }
}
