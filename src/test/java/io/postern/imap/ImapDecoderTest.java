package io.postern.imap;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ImapDecoderTest {

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Feeds {@code input} in two pieces split at {@code at} and collects every output. */
  private static List<String> decode(String input, int at, int maxLine, int maxLiteral) {
    ImapDecoder decoder = new ImapDecoder(maxLine, maxLiteral);
    List<String> out = new ArrayList<>();
    byte[] all = bytes(input);
    for (byte[] piece : List.of(Arrays.copyOfRange(all, 0, at),
        Arrays.copyOfRange(all, at, all.length))) {
      decoder.feed(piece);
      ImapInput in;
      while ((in = decoder.next()) != null) {
        out.add(describe(in));
        if (in instanceof ImapInput.TooBig) {
          return out;
        }
      }
    }
    return out;
  }

  private static String describe(ImapInput in) {
    if (in instanceof ImapInput.Frame f) {
      StringBuilder s = new StringBuilder("frame");
      for (ImapFrame.Segment seg : f.frame().segments()) {
        s.append(seg.literal() ? "|lit:" : "|txt:")
            .append(new String(seg.bytes(), StandardCharsets.ISO_8859_1));
      }
      return s.toString();
    }
    if (in instanceof ImapInput.LiteralWanted) {
      return "+";
    }
    if (in instanceof ImapInput.TooBig t) {
      return "toobig:" + t.what();
    }
    return in.toString();
  }

  private static void assertSameAtEverySplit(String input, List<String> expected) {
    for (int at = 0; at <= input.length(); at++) {
      assertThat(decode(input, at, 8192, 8192)).as("split at %d", at).isEqualTo(expected);
    }
  }

  @Test
  void decodeShouldFrameOneCommandWhateverTheSplit() {
    assertSameAtEverySplit("a1 CAPABILITY\r\n", List.of("frame|txt:a1 CAPABILITY"));
  }

  @Test
  void decodeShouldFramePipelinedCommandsInOrder() {
    assertSameAtEverySplit("a1 NOOP\r\na2 CAPABILITY\r\na3 LOGOUT\r\n",
        List.of("frame|txt:a1 NOOP", "frame|txt:a2 CAPABILITY", "frame|txt:a3 LOGOUT"));
  }

  @Test
  void decodeShouldAskForContinuationAndReadSynchronisingLiterals() {
    assertSameAtEverySplit("a LOGIN {5}\r\nal\"ce {8}\r\nse\\cr\r\nt\r\n",
        List.of("+", "+", "frame|txt:a LOGIN {5}|lit:al\"ce|txt: {8}|lit:se\\cr\r\nt|txt:"));
  }

  @Test
  void decodeShouldReadNonSynchronisingLiteralsWithoutContinuation() {
    assertSameAtEverySplit("a LOGIN {5+}\r\nalice {3+}\r\npw!\r\n",
        List.of("frame|txt:a LOGIN {5+}|lit:alice|txt: {3+}|lit:pw!|txt:"));
  }

  @Test
  void decodeShouldKeepBytesThatLookLikeCommandsInsideALiteral() {
    assertSameAtEverySplit("a01 FOOBAR {8+}\r\nb NOOP\r\n\r\na04 NOOP\r\n",
        List.of("frame|txt:a01 FOOBAR {8+}|lit:b NOOP\r\n|txt:", "frame|txt:a04 NOOP"));
  }

  @Test
  void decodeShouldAcceptBareLineFeed() {
    assertSameAtEverySplit("a NOOP\nb NOOP\r\n", List.of("frame|txt:a NOOP", "frame|txt:b NOOP"));
  }

  @Test
  void decodeShouldRefuseALineOverTheLimitBeforeItEnds() {
    String longLine = "a LOGIN " + "x".repeat(2000);
    for (int at = 0; at <= longLine.length(); at += 97) {
      assertThat(decode(longLine, at, 1024, 1024)).as("split at %d", at)
          .containsExactly("toobig:line");
    }
  }

  @Test
  void decodeShouldAcceptALineOfExactlyMaxLineWhateverTheSplitOfItsCrLf() {
    // Found by ImapDecoderFuzzTest: the CR alone at the end of a read counted as line text.
    String line = "a LOGIN bob " + "p".repeat(1012);
    for (int at = 0; at <= line.length() + 2; at++) {
      assertThat(decode(line + "\r\n", at, 1024, 8192)).as("split at %d", at)
          .containsExactly("frame|txt:" + line);
    }
  }

  @Test
  void decodeShouldCountTextAcrossLiteralsAgainstTheLineLimit() {
    String input = "a ID (" + "\"k\" {1}\r\nv ".repeat(300) + ")\r\n";
    assertThat(decode(input, input.length(), 1024, 8192)).last().isEqualTo("toobig:line");
  }

  @Test
  void decodeShouldRefuseAnnouncedLiteralsOverTheLimitWithoutWaitingForThem() {
    for (String marker : List.of("{4294967296}", "{99999999999999999999}", "{8193}", "{8193+}")) {
      String input = "a LOGIN " + marker + "\r\n";
      assertSameAtEverySplit(input, List.of("toobig:literal"));
    }
  }

  @Test
  void decodeShouldCountAllLiteralsOfOneCommandAgainstTheLiteralLimit() {
    String input = "a LOGIN {600+}\r\n" + "u".repeat(600) + " {600+}\r\n";
    assertThat(decode(input, input.length(), 8192, 1000)).containsExactly("toobig:literal");
  }

  @Test
  void decodeShouldAcceptLeadingZerosInLiteralLength() {
    assertSameAtEverySplit("a LOGIN {000003+}\r\nbob {1+}\r\nx\r\n",
        List.of("frame|txt:a LOGIN {000003+}|lit:bob|txt: {1+}|lit:x|txt:"));
  }

  @Test
  void decodeShouldTreatMalformedMarkersAsPlainText() {
    for (String marker : List.of("{-1}", "{1a}", "{}", "{ 5}", "{5}x")) {
      String input = "a LOGIN " + marker + "\r\n";
      assertSameAtEverySplit(input, List.of("frame|txt:a LOGIN " + marker));
    }
  }

  @Test
  void drainShouldReturnExactlyTheBytesAfterTheLastCommand() {
    ImapDecoder decoder = new ImapDecoder(8192, 8192);
    decoder.feed(bytes("a LOGIN u p\r\nb SELECT INBOX\r\nc FETCH 1 (BODY[] {3}"));
    assertThat(decoder.next()).isInstanceOf(ImapInput.Frame.class);
    assertThat(decoder.next()).isInstanceOf(ImapInput.Frame.class);
    assertThat(new String(decoder.drain(), StandardCharsets.ISO_8859_1))
        .isEqualTo("c FETCH 1 (BODY[] {3}");
  }

  @Test
  void drainShouldIncludeAPartlyReadLiteral() {
    ImapDecoder decoder = new ImapDecoder(8192, 8192);
    decoder.feed(bytes("a LOGIN u p\r\nb APPEND INBOX {10+}\r\n12345"));
    assertThat(decoder.next()).isInstanceOf(ImapInput.Frame.class);
    assertThat(decoder.next()).isNull();
    assertThat(new String(decoder.drain(), StandardCharsets.ISO_8859_1))
        .isEqualTo("b APPEND INBOX {10+}\r\n12345");
  }

  @Test
  void discardShouldForgetEverythingIncludingAPartialLine() {
    ImapDecoder decoder = new ImapDecoder(8192, 8192);
    decoder.feed(bytes("a STARTTLS\r\nb LOG"));
    assertThat(decoder.next()).isInstanceOf(ImapInput.Frame.class);
    decoder.discard();
    decoder.feed(bytes("IN u p\r\n"));
    assertThat(describe(decoder.next())).isEqualTo("frame|txt:IN u p");
  }

  @Test
  void nextLineShouldReturnABareLineForSaslResponses() {
    ImapDecoder decoder = new ImapDecoder(8192, 8192);
    decoder.feed(bytes("AGJvYgBzZWNyZXQ= {5}\r\na NOOP\r\n"));
    ImapInput line = decoder.nextLine();
    assertThat(line).isInstanceOf(ImapInput.Line.class);
    assertThat(new String(((ImapInput.Line) line).bytes(), StandardCharsets.US_ASCII))
        .isEqualTo("AGJvYgBzZWNyZXQ= {5}");
    assertThat(describe(decoder.next())).isEqualTo("frame|txt:a NOOP");
  }

  @Test
  void nextLineShouldWaitForTheLfOfAResponseOfExactlyMaxLine() {
    ImapDecoder decoder = new ImapDecoder(1024, 1024);
    decoder.feed(bytes("A".repeat(1024) + "\r"));
    assertThat(decoder.nextLine()).isNull();
    decoder.feed(bytes("\n"));
    assertThat(decoder.nextLine()).isInstanceOf(ImapInput.Line.class);
  }

  @Test
  void feedShouldRefuseMoreThanTheBackstopAllows() {
    ImapDecoder decoder = new ImapDecoder(1024, 1024);
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'a');
    boolean accepted = true;
    for (int i = 0; i < 40 && accepted; i++) {
      accepted = decoder.feed(chunk);
    }
    assertThat(accepted).isFalse();
  }
}
