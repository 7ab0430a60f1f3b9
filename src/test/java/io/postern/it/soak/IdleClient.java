package io.postern.it.soak;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * One IMAP IDLE session through Postern, by the worker that owns the mailbox: log in, SELECT
 * (the count must be this mailbox's), IDLE, deliver a message into the Maildir and wait for
 * Dovecot's {@code EXISTS} to come through Postern, hold the IDLE a while, DONE, fetch the new
 * message and compare its hash, then LOGOUT or just drop the connection.
 */
final class IdleClient {

  private static final Pattern EXISTS = Pattern.compile("\\* (\\d+) EXISTS");
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  // Dovecot notices a new Maildir file at once (inotify) and at the latest after 30 s.
  private static final Duration NEW_MAIL = Duration.ofSeconds(45);

  private final Map<String, Integer> ports;
  private final SSLContext tls;
  private final SoakMail mail;

  IdleClient(Map<String, Integer> ports, SSLContext tls, SoakMail mail) {
    this.ports = Map.copyOf(ports);
    this.tls = tls;
    this.mail = mail;
  }

  /** {@code hold}: how long the IDLE stays open after the new mail (or without any). */
  Attempt session(Attempt.Role role, SoakAccounts.Account account, String source,
      boolean implicitTls, boolean plain, boolean deliver, Duration hold, boolean logout) {
    Attempt.Builder b = new Attempt.Builder("java-idle", role);
    String mailbox = account.mailbox();
    boolean loginSent = false;
    boolean loggedIn = false;
    try (ImapConnection imap = ImapConnection.open(ports.get(implicitTls ? "imaps" : "imap"),
        source, implicitTls, tls, TIMEOUT)) {
      loginSent = true;
      ImapConnection.Reply login = imap.command(plain
          ? "AUTHENTICATE PLAIN " + Base64.getEncoder().encodeToString(("\0" + account.login()
              + "\0" + account.password()).getBytes(StandardCharsets.UTF_8))
          : "LOGIN " + quoted(account.login()) + " " + quoted(account.password()));
      if (!login.ok()) {
        return b.logins(Attempt.Logins.REFUSED).outcome(login.tagged().contains("[AUTHENTICATIONFAILED]")
            ? Attempt.Outcome.AUTH_FAILED : Attempt.Outcome.TEMP_FAILED).detail(login.tagged()).build();
      }
      loggedIn = true;
      b.logins(Attempt.Logins.SUCCEEDED);
      ImapConnection.Reply select = imap.command("SELECT INBOX");
      if (!select.ok()) {
        return b.outcome(Attempt.Outcome.BROKEN).detail("SELECT: " + select.tagged()).build();
      }
      int count = mail.count(mailbox);
      checkCount(b, account, exists(select.untagged(), -1), count);

      String idle = imap.nextTag();
      imap.send(idle + " IDLE");
      String continuation = imap.readLine();
      if (!continuation.startsWith("+")) {
        return b.outcome(Attempt.Outcome.BROKEN).detail("IDLE: " + continuation).build();
      }
      SoakMail.Message delivered = null;
      if (deliver) {
        delivered = mail.deliverSmall(mailbox);
        count = delivered.number();
        imap.timeout(NEW_MAIL);
        int seen = -1;
        while (seen < count) {
          seen = exists(List.of(imap.readLine()), seen);
          checkCount(b, account, seen > count ? seen : -1, count);
        }
        imap.timeout(TIMEOUT);
      }
      // Holding the session open is the point here, not synchronization.
      Thread.sleep(hold.toMillis());
      imap.send("DONE");
      ImapConnection.Reply done = imap.replyTo(idle);
      checkCount(b, account, exists(done.untagged(), -1), count);
      if (delivered != null) {
        ImapConnection.Reply fetch = imap.command("FETCH " + count + " (BODY.PEEK[])");
        if (!fetch.ok() || fetch.literals().size() != 1) {
          return b.outcome(Attempt.Outcome.BROKEN).detail("FETCH: " + fetch.tagged()).build();
        }
        byte[] body = fetch.literals().get(0);
        switch (mail.check(mailbox, count, SoakMail.sha256(body))) {
          case SAME -> b.fetched(body.length);
          case MIXED -> b.violation(Attempt.Violation.MIXED, account.login() + "'s new message "
              + count + " came back as " + mail.owner(SoakMail.sha256(body)));
          case ALTERED -> b.violation(Attempt.Violation.ALTERED, account.login()
              + "'s new message " + count + " came back altered (" + body.length + " bytes)");
        }
      }
      if (logout) {
        ImapConnection.Reply bye = imap.command("LOGOUT");
        if (!bye.ok()) {
          return b.outcome(Attempt.Outcome.BROKEN).detail("LOGOUT: " + bye.tagged()).build();
        }
      }
      return b.outcome(Attempt.Outcome.OK).build();
    } catch (IOException e) {
      if (!loggedIn) {
        b.logins(loginSent ? Attempt.Logins.UNANSWERED : Attempt.Logins.NONE);
      }
      return b.outcome(loggedIn ? Attempt.Outcome.BROKEN : Attempt.Outcome.NOT_LOGGED_IN)
          .detail(e.toString()).build();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return b.outcome(loggedIn ? Attempt.Outcome.BROKEN : Attempt.Outcome.NOT_LOGGED_IN)
          .detail("interrupted").build();
    }
  }

  private static void checkCount(Attempt.Builder b, SoakAccounts.Account account, int seen,
      int count) {
    if (seen >= 0 && seen != count) {
      b.violation(Attempt.Violation.MIXED, account.login() + " saw " + seen + " messages, "
          + account.mailbox() + " has " + count);
    }
  }

  /** The last {@code * N EXISTS} among {@code lines}, else {@code otherwise}. */
  private static int exists(List<String> lines, int otherwise) {
    int count = otherwise;
    for (String line : lines) {
      Matcher m = EXISTS.matcher(line);
      if (m.matches()) {
        count = Integer.parseInt(m.group(1));
      }
    }
    return count;
  }

  private static String quoted(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
