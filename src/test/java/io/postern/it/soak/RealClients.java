package io.postern.it.soak;

import io.postern.it.Clients;
import io.postern.testing.ProcessResult;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

/**
 * Runs the real clients (Python's imaplib and poplib through {@code src/test/resources/clients/},
 * and curl) against Postern, one login each, and turns what each saw into an {@link Attempt}:
 * the login's answer, the fetched message's hash against the one delivered, and the mailbox's
 * message count against the account's.
 */
final class RealClients {

  /**
   * One login. {@code mailbox} is the Dovecot mailbox the login must land in, or null for a
   * guess, which must be refused; {@code number} the message to fetch (0: none);
   * {@code source} the local address to connect from; {@code mechanism} the client's choice
   * (Python: {@code login}/{@code plain}/{@code user}; curl: a {@code --login-options} value or
   * null).
   */
  record Request(Attempt.Role role, String user, String password, String mailbox, int number,
      String source, boolean implicitTls, String mechanism) {}

  // Far above what a healthy run needs (the throttle may hold a guess for 15 s), so a timeout
  // means a hang.
  private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(150);

  private final Map<String, Integer> ports;
  private final Path cafile;
  private final Path scratch;
  private final SoakMail mail;

  RealClients(Map<String, Integer> ports, Path cafile, Path scratch, SoakMail mail) {
    this.ports = Map.copyOf(ports);
    this.cafile = cafile;
    this.scratch = scratch;
    this.mail = mail;
  }

  Attempt pythonImap(Request r) {
    List<String> args = pythonArgs(r, r.implicitTls() ? "imaps" : "imap");
    if (r.number() > 0 && r.mailbox() != null) {
      args.addAll(List.of("--fetch-uid", Integer.toString(r.number())));
    }
    return python("python-imap", "imap_client.py", args, r);
  }

  Attempt pythonPop3(Request r) {
    List<String> args = pythonArgs(r, r.implicitTls() ? "pop3s" : "pop3");
    if (r.number() > 0 && r.mailbox() != null) {
      args.addAll(List.of("--retr", Integer.toString(r.number())));
    }
    return python("python-pop3", "pop3_client.py", args, r);
  }

  Attempt curlImap(Request r) {
    String path = r.mailbox() != null && r.number() > 0 ? "/INBOX;UID=" + r.number() : "/INBOX";
    return curl("curl-imap", r, (r.implicitTls() ? "imaps://localhost:" + ports.get("imaps")
        : "imap://localhost:" + ports.get("imap")) + path, true);
  }

  Attempt curlPop3(Request r) {
    String path = r.mailbox() != null && r.number() > 0 ? "/" + r.number() : "/";
    return curl("curl-pop3", r, (r.implicitTls() ? "pop3s://localhost:" + ports.get("pop3s")
        : "pop3://localhost:" + ports.get("pop3")) + path, false);
  }

  private List<String> pythonArgs(Request r, String listener) {
    List<String> args = new ArrayList<>(List.of("--host", "localhost",
        "--port", Integer.toString(ports.get(listener)),
        "--tls", r.implicitTls() ? "implicit" : "starttls", "--cafile", cafile.toString(),
        "--user", r.user(), "--password", r.password(), "--source", r.source(),
        "--timeout", Long.toString(SOCKET_TIMEOUT.toSeconds())));
    if (r.mechanism() != null) {
      args.addAll(List.of("--mech", r.mechanism()));
    }
    if (r.mailbox() == null) {
      args.add("--expect-login-failure");
    }
    return args;
  }

  private Attempt python(String client, String script, List<String> args, Request r) {
    Attempt.Builder b = new Attempt.Builder(client, r.role());
    ProcessResult result;
    try {
      result = Clients.python(PROCESS_TIMEOUT, script, args.toArray(String[]::new));
    } catch (TimeoutException e) {
      return b.logins(Attempt.Logins.UNANSWERED).detail("no end within " + PROCESS_TIMEOUT).build();
    } catch (Exception e) {
      return b.detail("could not run " + script + ": " + e).build();
    }
    JsonObject json;
    try {
      String[] lines = result.stdout().strip().split("\n");
      json = new JsonObject(lines[lines.length - 1]);
    } catch (RuntimeException e) {
      return b.logins(Attempt.Logins.UNANSWERED).detail("no result from " + script + ": "
          + result).build();
    }
    String error = json.getString("error");
    switch (json.getString("login", "error")) {
      case "ok" -> {
        b.logins(Attempt.Logins.SUCCEEDED);
        loggedIn(b, r, json, result.exitCode() == 0, error);
      }
      case "failed" -> b.logins(Attempt.Logins.REFUSED).outcome(refusal(error)).detail(error);
      default -> b.logins(json.getString("greeting") == null ? Attempt.Logins.NONE
          : Attempt.Logins.UNANSWERED).detail(error);
    }
    return b.build();
  }

  private void loggedIn(Attempt.Builder b, Request r, JsonObject json, boolean clean,
      String error) {
    if (r.mailbox() == null) {
      b.violation(Attempt.Violation.WRONG_PASSWORD_ACCEPTED, r.user() + " got in with a guess");
      return;
    }
    Integer exists = json.getInteger("exists");
    if (exists != null && exists != mail.count(r.mailbox())) {
      b.violation(Attempt.Violation.MIXED, r.user() + " saw " + exists + " messages, "
          + r.mailbox() + " has " + mail.count(r.mailbox()));
    }
    Number octets = json.getNumber("mailbox_size");
    if (octets != null && octets.longValue() != mail.size(r.mailbox())) {
      b.violation(Attempt.Violation.MIXED, r.user() + " saw a mailbox of " + octets
          + " octets, " + r.mailbox() + " has " + mail.size(r.mailbox()));
    }
    String sha = json.getString("sha256");
    if (sha != null) {
      checkMessage(b, r, sha, json.getLong("size"));
    }
    b.outcome(clean ? Attempt.Outcome.OK : Attempt.Outcome.BROKEN).detail(clean ? null : error);
  }

  private Attempt curl(String client, Request r, String url, boolean imap) {
    Attempt.Builder b = new Attempt.Builder(client, r.role());
    Path out = scratch.resolve(UUID.randomUUID() + ".eml");
    List<String> args = new ArrayList<>(List.of("-v", "--cacert", cafile.toString(),
        "--interface", r.source(), "--max-time", Long.toString(SOCKET_TIMEOUT.toSeconds() * 2),
        "-u", r.user() + ":" + r.password(), "-o", out.toString()));
    if (!r.implicitTls()) {
      args.add("--ssl-reqd");
    }
    if (r.mechanism() != null) {
      args.addAll(List.of("--login-options", r.mechanism()));
    }
    args.add(url);
    try {
      ProcessResult result;
      try {
        result = Clients.curl(PROCESS_TIMEOUT, args.toArray(String[]::new));
      } catch (TimeoutException e) {
        return b.logins(Attempt.Logins.UNANSWERED).detail("no end within " + PROCESS_TIMEOUT)
            .build();
      } catch (Exception e) {
        return b.detail("could not run curl: " + e).build();
      }
      CurlTranscript t = imap ? CurlTranscript.imap(result.stderr())
          : CurlTranscript.pop3(result.stderr());
      b.logins(t.logins());
      String error = curlError(result);
      if (t.logins().ok() > 0) {
        if (r.mailbox() == null) {
          b.violation(Attempt.Violation.WRONG_PASSWORD_ACCEPTED, r.user() + " got in with a guess");
        } else {
          if (t.exists() >= 0 && t.exists() != mail.count(r.mailbox())) {
            b.violation(Attempt.Violation.MIXED, r.user() + " saw " + t.exists() + " messages, "
                + r.mailbox() + " has " + mail.count(r.mailbox()));
          }
          if (result.exitCode() == 0 && r.number() > 0) {
            byte[] bytes = Files.readAllBytes(out);
            checkMessage(b, r, SoakMail.sha256(bytes), bytes.length);
          }
          b.outcome(result.exitCode() == 0 ? Attempt.Outcome.OK : Attempt.Outcome.BROKEN)
              .detail(result.exitCode() == 0 ? null : error);
        }
      } else if (t.logins().refused() > 0) {
        b.outcome(refusal(t.refusal())).detail(t.refusal());
      } else {
        b.detail(error + " (" + url + (r.mechanism() == null ? "" : ", " + r.mechanism()) + ")");
      }
      return b.build();
    } catch (IOException e) {
      return b.detail("could not read curl's output: " + e).build();
    } finally {
      try {
        Files.deleteIfExists(out);
      } catch (IOException e) {
        // Scratch space under the run's directory; removed with it.
      }
    }
  }

  private void checkMessage(Attempt.Builder b, Request r, String sha, long size) {
    switch (mail.check(r.mailbox(), r.number(), sha)) {
      case SAME -> b.fetched(size);
      case MIXED -> b.violation(Attempt.Violation.MIXED, r.user() + "'s message " + r.number()
          + " came back as " + mail.owner(sha));
      case ALTERED -> b.violation(Attempt.Violation.ALTERED, r.user() + "'s message "
          + r.number() + " came back with " + size + " bytes, sha256 " + sha + ", delivered "
          + mail.message(r.mailbox(), r.number()).size() + " bytes, sha256 "
          + mail.message(r.mailbox(), r.number()).sha256());
    }
  }

  /** A wrong password or unknown user, or a refusal for now (any other code, new ones too). */
  private static Attempt.Outcome refusal(String reply) {
    String text = reply == null ? "" : reply;
    return text.contains("[AUTHENTICATIONFAILED]") || text.contains("[AUTH]")
        ? Attempt.Outcome.AUTH_FAILED : Attempt.Outcome.TEMP_FAILED;
  }

  private static String curlError(ProcessResult result) {
    for (String line : result.stderr().split("\r?\n")) {
      if (line.startsWith("curl: (")) {
        return "exit " + result.exitCode() + ", " + line;
      }
    }
    return "exit " + result.exitCode();
  }
}
