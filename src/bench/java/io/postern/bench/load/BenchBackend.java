package io.postern.bench.load;

import io.postern.it.DovecotServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The real Dovecot every proxy under test logs in to, tuned for many sessions from one address
 * (one {@code imap} process serves up to 1000 of them; login processes stay up and serve many),
 * with {@link #USERS} small mailboxes for logins and IDLE and one mailbox holding the large
 * message, delivered straight into its Maildir.
 */
final class BenchBackend implements AutoCloseable {

  static final int USERS = 32;
  static final String PASSWORD = "bench-Pa55word";
  static final String BIG_USER = "bench-big";

  // Appended to DovecotServer's configuration; Dovecot merges service blocks and keeps the last
  // value of a setting. Sized for 20 000 sessions: twice what one proxy can hold at 20 000 fds.
  private static final String TUNING = """

      # io.postern.bench.load.BenchBackend: many sessions from one address and one uid.
      mail_max_userip_connections = 100000
      default_client_limit = 25000
      default_process_limit = 200
      # Logins repeat the same few passwords: SHA512-CRYPT once per user, not once per login.
      auth_cache_size = 10M
      auth_cache_ttl = 1 hour
      # service_count 0: a process serves clients until it exits (the default 1 forks one
      # process per session, and process_limit would cap the sessions).
      service imap {
        service_count = 0
        client_limit = 1000
        process_limit = 40
        process_min_avail = 2
      }
      service pop3 {
        service_count = 0
        client_limit = 1000
        process_limit = 40
        process_min_avail = 1
      }
      service imap-login {
        service_count = 0
        client_limit = 5000
        process_min_avail = 2
        process_limit = 8
      }
      service pop3-login {
        service_count = 0
        client_limit = 5000
        process_min_avail = 1
        process_limit = 8
      }
      service auth {
        client_limit = 25000
      }
      service anvil {
        client_limit = 25000
      }
      """;

  private final DovecotServer dovecot;
  private final int bigMessageBytes;

  private BenchBackend(DovecotServer dovecot, int bigMessageBytes) {
    this.dovecot = dovecot;
    this.bigMessageBytes = bigMessageBytes;
  }

  static BenchBackend start(Path dir, int bigMessageMib) throws Exception {
    Map<String, String> users = new LinkedHashMap<>();
    for (String user : users()) {
      users.put(user, PASSWORD);
    }
    users.put(BIG_USER, PASSWORD);
    DovecotServer dovecot = DovecotServer.start(dir, users, TUNING);
    try {
      for (String user : users()) {
        dovecot.deliver(user, smallMessage(user));
      }
      byte[] big = BenchMessages.large(bigMessageMib);
      dovecot.deliver(BIG_USER, big);
      return new BenchBackend(dovecot, big.length);
    } catch (Exception | Error e) {
      dovecot.close();
      throw e;
    }
  }

  /** The users for logins and IDLE, each with one small message. */
  static List<String> users() {
    List<String> users = new ArrayList<>();
    for (int i = 0; i < USERS; i++) {
      users.add("bench" + i);
    }
    return users;
  }

  int imapPort() {
    return dovecot.imapPort();
  }

  int pop3Port() {
    return dovecot.pop3Port();
  }

  /** Bytes of the large message as stored (CRLF line ends): what BODY[] returns. */
  int bigMessageBytes() {
    return bigMessageBytes;
  }

  String logText() throws Exception {
    return dovecot.logText();
  }

  @Override
  public void close() {
    dovecot.close();
  }

  private static byte[] smallMessage(String user) {
    return ("From: bench@example.org\r\nTo: " + user + "@example.org\r\nSubject: hello\r\n"
        + "Message-ID: <" + user + "@bench.example.org>\r\n\r\nA small message.\r\n")
        .getBytes(StandardCharsets.US_ASCII);
  }
}
