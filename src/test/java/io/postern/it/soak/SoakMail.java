package io.postern.it.soak;

import io.postern.it.DovecotServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The soak's accounts and what each mailbox holds, as delivered into Dovecot's Maildirs: every
 * message names its owner and has its own random body, so a fetched hash says whether the bytes
 * are the ones delivered, and if not whether they are another account's (a mixed session) or
 * nobody's (altered bytes). Mailboxes of readers have different message counts, so a SELECT or
 * STAT in the wrong mailbox shows too. Each reader's last message is a big one (several MiB).
 */
final class SoakMail {

  /** What clients can be told to expect of one message. */
  record Message(int number, String sha256, int size) {}

  /** How a fetched message compares with the one delivered. */
  enum Check { SAME, ALTERED, MIXED }

  private static final int MIB = 1 << 20;

  private final DovecotServer dovecot;
  private final long seed;
  private final Map<String, List<Message>> mailboxes = new ConcurrentHashMap<>();
  // sha256 -> "mailbox #number", for telling a mixed session from altered bytes.
  private final Map<String, String> owners = new ConcurrentHashMap<>();

  private SoakMail(DovecotServer dovecot, long seed) {
    this.dovecot = dovecot;
    this.seed = seed;
  }

  /**
   * Fills every account's mailbox: readers get {@code 2 + index} small messages and one big one,
   * the others two small ones.
   */
  static SoakMail deliver(DovecotServer dovecot, SoakAccounts accounts, long seed)
      throws IOException {
    SoakMail mail = new SoakMail(dovecot, seed);
    List<SoakAccounts.Account> readers = accounts.readers();
    for (int i = 0; i < readers.size(); i++) {
      SoakAccounts.Account reader = readers.get(i);
      for (int k = 0; k < 2 + i; k++) {
        mail.deliverSmall(reader.mailbox());
      }
      mail.deliver(reader.mailbox(), big(reader.mailbox(), (3 + i % 4) * MIB, seed + i));
    }
    for (SoakAccounts.Account other : accounts.others()) {
      mail.deliverSmall(other.mailbox());
      mail.deliverSmall(other.mailbox());
    }
    return mail;
  }

  /** Delivers one more small message to {@code mailbox} and returns it. */
  synchronized Message deliverSmall(String mailbox) throws IOException {
    int number = count(mailbox) + 1;
    return deliver(mailbox, small(mailbox, number, new Random(seed * 31 + mailbox.hashCode() * 17L + number)));
  }

  int count(String mailbox) {
    return mailboxes.getOrDefault(mailbox, List.of()).size();
  }

  /** Message {@code number} (from 1, IMAP sequence number and UID alike, POP3 number). */
  Message message(String mailbox, int number) {
    return mailboxes.get(mailbox).get(number - 1);
  }

  /** What POP3 STAT says the mailbox holds in octets. */
  long size(String mailbox) {
    return mailboxes.get(mailbox).stream().mapToLong(Message::size).sum();
  }

  /** Compares what a client of {@code mailbox} fetched as message {@code number}. */
  Check check(String mailbox, int number, String sha256) {
    if (message(mailbox, number).sha256().equals(sha256)) {
      return Check.SAME;
    }
    String owner = owners.get(sha256);
    return owner != null && !owner.startsWith(mailbox + " #") ? Check.MIXED : Check.ALTERED;
  }

  /** Whose message a hash is ("mailbox #n"), or null. */
  String owner(String sha256) {
    return owners.get(sha256);
  }

  private synchronized Message deliver(String mailbox, byte[] bytes) throws IOException {
    List<Message> messages = mailboxes.computeIfAbsent(mailbox, m -> new ArrayList<>());
    Message message = new Message(messages.size() + 1, sha256(bytes), bytes.length);
    dovecot.deliver(mailbox, bytes);
    messages.add(message);
    owners.put(message.sha256(), mailbox + " #" + message.number());
    return message;
  }

  /**
   * A few KiB to a few dozen: 8-bit text, lines that POP3 must dot-stuff, CRLF line ends (so
   * Dovecot serves the stored bytes unchanged), and the owner's name in the headers and body.
   */
  private static byte[] small(String mailbox, int number, Random random) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(headers(mailbox, number, "text/plain; charset=iso-8859-1", "8bit"));
    int lines = 20 + random.nextInt(600);
    for (int i = 0; i < lines; i++) {
      if (i % 50 == 0) {
        out.writeBytes(("mailbox of " + mailbox + ", message " + number + "\r\n")
            .getBytes(StandardCharsets.US_ASCII));
      }
      int length = random.nextInt(100);
      if (random.nextInt(10) == 0) {
        out.write('.');
      }
      for (int j = 0; j < length; j++) {
        // Printable ASCII and 8-bit bytes; never CR, LF or NUL, which Dovecot would not keep.
        out.write(random.nextInt(4) == 0 ? 0x80 + random.nextInt(0x80) : 0x20 + random.nextInt(0x5f));
      }
      out.writeBytes(new byte[] {'\r', '\n'});
    }
    return out.toByteArray();
  }

  /** {@code payload} random bytes, base64 in CRLF lines: a big attachment. */
  private static byte[] big(String mailbox, int payload, long seed) {
    Random random = new Random(seed * 7919 + mailbox.hashCode());
    byte[] data = new byte[payload];
    random.nextBytes(data);
    ByteArrayOutputStream out = new ByteArrayOutputStream(payload * 4 / 3 + 4096);
    out.writeBytes(headers(mailbox, 0, "application/octet-stream", "base64"));
    out.writeBytes(Base64.getMimeEncoder(76, new byte[] {'\r', '\n'}).encode(data));
    out.writeBytes(new byte[] {'\r', '\n'});
    return out.toByteArray();
  }

  private static byte[] headers(String mailbox, int number, String type, String encoding) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("From", "Soak <soak@example.org>");
    h.put("To", mailbox + "@example.org");
    h.put("Subject", number == 0 ? "big one for " + mailbox : "message " + number + " for " + mailbox);
    h.put("MIME-Version", "1.0");
    h.put("Content-Type", type);
    h.put("Content-Transfer-Encoding", encoding);
    StringBuilder text = new StringBuilder();
    h.forEach((name, value) -> text.append(name).append(": ").append(value).append("\r\n"));
    return text.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
