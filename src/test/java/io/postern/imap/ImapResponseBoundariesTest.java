package io.postern.imap;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The points between two IMAP server responses, where a draining relay may say {@code * BYE}:
 * the same whatever the chunks the stream comes in, never inside a literal.
 */
class ImapResponseBoundariesTest {

  /**
   * Feeds {@code stream} in two pieces split at {@code at}, stopping at every boundary, and
   * returns the offsets (into the whole stream) where the stream was between two responses.
   */
  private static List<Integer> boundaries(String stream, int at) {
    byte[] all = stream.getBytes(StandardCharsets.ISO_8859_1);
    ImapResponseBoundaries scanner = new ImapResponseBoundaries();
    List<Integer> found = new ArrayList<>();
    int offset = 0;
    for (Buffer piece : List.of(Buffer.buffer(all).slice(0, at),
        Buffer.buffer(all).slice(at, all.length))) {
      int used = 0;
      while (used < piece.length()) {
        int n = scanner.follow(piece.slice(used, piece.length()), true);
        assertThat(n).isPositive();
        used += n;
        if (scanner.between()) {
          found.add(offset + used);
        }
      }
      offset += piece.length();
    }
    return found;
  }

  private static void assertAtEverySplit(String stream, Integer... expected) {
    for (int at = 0; at <= stream.length(); at++) {
      assertThat(boundaries(stream, at)).as("split at %d", at).containsExactly(expected);
    }
    // Without stopping, the state after the whole stream is the same.
    ImapResponseBoundaries whole = new ImapResponseBoundaries();
    Buffer all = Buffer.buffer(stream.getBytes(StandardCharsets.ISO_8859_1));
    assertThat(whole.follow(all, false)).isEqualTo(all.length());
    assertThat(whole.between()).isEqualTo(expected.length > 0
        && expected[expected.length - 1] == stream.length());
  }

  @Test
  void linesShouldEndResponses() {
    String s = "* OK ready\r\n* 3 EXISTS\r\na1 OK done\r\n";
    assertAtEverySplit(s, 12, 24, s.length());
  }

  @Test
  void aLiteralShouldBeSkippedWithWhatLooksLikeLinesAndMarkersInside() {
    String literal = "ab\r\n* OK x {9}\r\n.\r\n";
    String s = "* 1 FETCH (UID 7 BODY[] {" + literal.length() + "}\r\n" + literal
        + " FLAGS (\\Seen))\r\na2 OK FETCH done\r\n";
    int first = s.indexOf("))\r\n") + 4;
    assertAtEverySplit(s, first, s.length());
  }

  @Test
  void severalLiteralsShouldContinueOneResponse() {
    String s = "* 2 FETCH (BODY[HEADER] {3}\r\nabc BODY[TEXT] {4}\r\n\r\n\r\n)\r\n* 3 EXISTS\r\n";
    assertAtEverySplit(s, s.indexOf(")\r\n") + 3, s.length());
  }

  @Test
  void literal8AndNonSynchronisingMarkersShouldAlsoAnnounceLiterals() {
    String s = "* 1 FETCH (BINARY[] ~{5}\r\n\0\r\n\n\0)\r\n* 1 FETCH (X {3+}\r\n\r\n\n)\r\n";
    assertAtEverySplit(s, s.indexOf(")\r\n") + 3, s.length());
  }

  @Test
  void anEmptyLiteralShouldContinueTheLine() {
    String s = "* 1 FETCH (BODY[] {0}\r\n)\r\n";
    assertAtEverySplit(s, s.length());
  }

  @Test
  void bracesThatAreNotAMarkerAtTheLineEndShouldNotAnnounceALiteral() {
    String s = "* OK {12} not at the end\r\n* OK {x}\r\n* OK {}\r\n* OK {3}x\r\n* OK 3}\r\n";
    List<Integer> ends = new ArrayList<>();
    for (int i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) {
      ends.add(i + 1);
    }
    assertAtEverySplit(s, ends.toArray(Integer[]::new));
  }

  @Test
  void bareLineFeedsShouldEndLinesToo() {
    String s = "* OK a\n* 1 FETCH (BODY[] {2}\n\n\n)\n";
    assertAtEverySplit(s, 7, s.length());
  }

  @Test
  void theStartOfTheStreamShouldBeBetweenResponses() {
    assertThat(new ImapResponseBoundaries().between()).isTrue();
    ImapResponseBoundaries partial = new ImapResponseBoundaries();
    partial.follow(Buffer.buffer("* OK"), false);
    assertThat(partial.between()).isFalse();
  }

  @Test
  void theLongestLengthShouldBeALiteralThatNeverEnds() {
    String s = "* 1 FETCH (BODY[] {" + "9".repeat(20) + "+}\r\n)\r\n* OK\r\n";
    assertAtEverySplit(s);
  }

  @Test
  void moreThanTwentyDigitsShouldBeNoLiteral() {
    String s = "* OK {" + "1".repeat(21) + "}\r\n* OK {" + "0".repeat(40) + "}\r\n";
    assertAtEverySplit(s, s.indexOf('\n') + 1, s.length());
  }

  @Test
  void aLongLineShouldEndWithItsMarkerWhateverComesBefore() {
    String text = "x{1}".repeat(50);
    String s = "* 1 FETCH (X " + text + " BODY[] {3}\r\n{9}\r\n" + text + ".\r\n* OK\r\n";
    assertAtEverySplit(s, s.indexOf("{9}\r\n") + 5, s.indexOf("* OK"), s.length());
  }

  @Test
  void a64MibLiteralShouldCostStepsPerChunkNotPerByte() {
    long size = 64L << 20;
    ImapResponseBoundaries scanner = new ImapResponseBoundaries();
    AtomicLong reads = new AtomicLong();
    String head = "* 1 FETCH (BODY[] {" + size + "}\r\n";
    scanner.follow(counting(Buffer.buffer(head), reads), false);
    Buffer chunk = Buffer.buffer(new byte[64 << 10]);
    for (long sent = 0; sent < size; sent += chunk.length()) {
      assertThat(scanner.follow(counting(chunk, reads), true)).isEqualTo(chunk.length());
      assertThat(scanner.between()).isFalse();
    }
    assertThat(scanner.follow(counting(Buffer.buffer(")\r\nextra"), reads), true)).isEqualTo(3);
    assertThat(scanner.between()).isTrue();
    // The lines' bytes (a few times over at most), none of the literal's.
    assertThat(reads.get()).as("bytes looked at").isLessThan(4 * (head.length() + 3));
  }

  /** {@code buffer}, counting the bytes read one by one. */
  private static Buffer counting(Buffer buffer, AtomicLong reads) {
    return (Buffer) Proxy.newProxyInstance(Buffer.class.getClassLoader(),
        new Class<?>[] {Buffer.class}, (proxy, method, args) -> {
          if (method.getName().equals("getByte")) {
            reads.incrementAndGet();
          }
          return method.invoke(buffer, args);
        });
  }
}
