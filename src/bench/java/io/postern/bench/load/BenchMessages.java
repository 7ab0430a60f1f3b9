package io.postern.bench.load;

import java.nio.charset.StandardCharsets;
import java.util.Random;

/** The large message: a header, then base64-like lines of 76 characters, CRLF, as mailers send. */
final class BenchMessages {

  private static final int LINE = 76;
  private static final byte[] ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
          .getBytes(StandardCharsets.US_ASCII);

  private BenchMessages() {}

  /** About {@code mib} MiB (whole lines, just under); no line starts with a dot. */
  static byte[] large(int mib) {
    byte[] header = ("From: bench@example.org\r\nTo: bench-big@example.org\r\n"
        + "Subject: large\r\nMessage-ID: <large@bench.example.org>\r\nMIME-Version: 1.0\r\n"
        + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    int lines = (mib * 1024 * 1024 - header.length) / (LINE + 2);
    byte[] message = new byte[header.length + lines * (LINE + 2)];
    System.arraycopy(header, 0, message, 0, header.length);
    Random random = new Random(13);
    int at = header.length;
    for (int line = 0; line < lines; line++) {
      for (int i = 0; i < LINE; i++) {
        message[at++] = ALPHABET[random.nextInt(ALPHABET.length)];
      }
      message[at++] = '\r';
      message[at++] = '\n';
    }
    return message;
  }
}
