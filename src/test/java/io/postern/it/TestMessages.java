package io.postern.it;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;

/**
 * The messages the interop tests deliver to Dovecot and fetch back through real clients, compared
 * by hash: each holds what a careless relay or client would change (dot-stuffed lines, 8-bit
 * bytes, CRLF), and the big one is over 64 MiB.
 */
final class TestMessages {

  private TestMessages() {}

  /** Dot-stuffing, 8-bit text and CRLF: small enough to read in a failure message. */
  static byte[] small() {
    String message = String.join("\r\n",
        "From: Sender <sender@example.org>",
        "To: Alice <alice@example.org>",
        "Subject: small",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Gr\u00fc\u00dfe aus K\u00f6ln \u00e9\u00e8\u00ff",
        ".a line that POP3 must dot-stuff",
        "..two dots",
        ".",
        "end",
        "");
    return message.getBytes(StandardCharsets.ISO_8859_1);
  }

  /**
   * About 65.5 MiB: 48 MiB of random bytes base64-encoded in a MIME part, after a part of raw 8-bit
   * bytes (0x80-0xFF, never CR, LF or NUL, which Dovecot would not pass through unchanged) with some
   * lines starting with ".". CRLF line ends throughout.
   */
  static byte[] big() {
    Random random = new Random(20240521L);
    ByteArrayOutputStream message = new ByteArrayOutputStream(70 << 20);
    message.writeBytes(String.join("\r\n",
        "From: Sender <sender@example.org>",
        "To: Alice <alice@example.org>",
        "Subject: big",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"postern-boundary\"",
        "",
        "--postern-boundary",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: 8bit",
        "",
        "").getBytes(StandardCharsets.US_ASCII));
    byte[] line = new byte[76];
    for (int i = 0; i < 2000; i++) {
      for (int j = 0; j < line.length; j++) {
        line[j] = (byte) (0x80 + random.nextInt(0x80));
      }
      if (i % 100 == 0) {
        line[0] = '.';
      }
      message.writeBytes(line);
      message.writeBytes(new byte[] {'\r', '\n'});
    }
    message.writeBytes(String.join("\r\n",
        "--postern-boundary",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        "").getBytes(StandardCharsets.US_ASCII));
    byte[] payload = new byte[48 << 20];
    random.nextBytes(payload);
    message.writeBytes(Base64.getMimeEncoder(76, new byte[] {'\r', '\n'}).encode(payload));
    message.writeBytes("\r\n--postern-boundary--\r\n".getBytes(StandardCharsets.US_ASCII));
    return message.toByteArray();
  }

  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
