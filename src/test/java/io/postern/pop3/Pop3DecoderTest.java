package io.postern.pop3;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class Pop3DecoderTest {

  private static List<String> decode(String input, int at, int maxLine) {
    Pop3Decoder decoder = new Pop3Decoder(maxLine);
    byte[] all = input.getBytes(StandardCharsets.ISO_8859_1);
    List<String> out = new ArrayList<>();
    for (byte[] piece : List.of(Arrays.copyOfRange(all, 0, at),
        Arrays.copyOfRange(all, at, all.length))) {
      decoder.feed(piece);
      byte[] line;
      while ((line = decoder.next()) != null) {
        if (line == Pop3Decoder.TOO_LONG) {
          out.add("toolong");
          return out;
        }
        out.add(new String(line, StandardCharsets.ISO_8859_1));
      }
    }
    return out;
  }

  @Test
  void nextShouldSplitPipelinedLinesWhateverTheSplit() {
    String input = "USER bob\r\nPASS pass word\r\nSTAT\nQUIT\r\n";
    for (int at = 0; at <= input.length(); at++) {
      assertThat(decode(input, at, 8192)).as("split at %d", at)
          .containsExactly("USER bob", "PASS pass word", "STAT", "QUIT");
    }
  }

  @Test
  void nextShouldAccept255OctetCommands() {
    String user = "USER " + "u".repeat(250);
    assertThat(decode(user + "\r\n", 3, 1024)).containsExactly(user);
  }

  @Test
  void nextShouldRefuseLinesOverTheLimitEvenWithoutLineEnd() {
    assertThat(decode("X".repeat(10_000), 5000, 1024)).containsExactly("toolong");
    assertThat(decode("X".repeat(2000) + "\r\n", 2001, 1024)).containsExactly("toolong");
  }

  @Test
  void nextShouldAcceptALineOfExactlyMaxLineWhateverTheSplitOfItsCrLf() {
    // Found by Pop3DecoderFuzzTest: the CR alone at the end of a read counted as line text.
    String line = "USER " + "u".repeat(1019);
    for (int at = 0; at <= line.length() + 2; at++) {
      assertThat(decode(line + "\r\n", at, 1024)).as("split at %d", at).containsExactly(line);
    }
  }

  @Test
  void drainShouldReturnTheBytesAfterTheLastLine() {
    Pop3Decoder decoder = new Pop3Decoder(8192);
    decoder.feed("PASS x\r\nSTAT\r\nRETR 1\r\nTO".getBytes(StandardCharsets.US_ASCII));
    assertThat(decoder.next()).isNotNull();
    assertThat(new String(decoder.drain(), StandardCharsets.US_ASCII))
        .isEqualTo("STAT\r\nRETR 1\r\nTO");
  }

  @Test
  void parseShouldKeepSpacesInPasswordsAndRefuseMissingArguments() {
    Pop3Request pass = Pop3Request.parse("PASS pass word ".getBytes(StandardCharsets.UTF_8));
    assertThat(((Pop3Request.Pass) pass).password().text()).isEqualTo("pass word ");
    assertThat(Pop3Request.parse("USER".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(Pop3Request.Invalid.class);
    assertThat(Pop3Request.parse("user a b".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(Pop3Request.Invalid.class);
    assertThat(Pop3Request.parse("APOP bob abc".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(Pop3Request.Invalid.class);
    assertThat(pass.toString()).doesNotContain("pass word");
  }

  @Test
  void parseShouldReadKeywordsAndMechanismsInAsciiCaseOnly() {
    // Found by Pop3DecoderFuzzTest: Unicode upper-casing read "PAſſ" as PASS, and then took the
    // password from a byte offset computed on characters.
    assertThat(Pop3Request.parse("PA\u017f\u017f hunter2".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(Pop3Request.Invalid.class);
    assertThat(Pop3Request.parse("q\u0131it".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(Pop3Request.Invalid.class);
    Pop3Request.Auth auth = (Pop3Request.Auth) Pop3Request.parse(
        "AUTH pla\u0131n".getBytes(StandardCharsets.UTF_8));
    assertThat(auth.mechanism()).isEqualTo("PLA\u0131N");
  }

  @Test
  void parseShouldReadAuthWithOptionalInitialResponse() {
    Pop3Request.Auth auth =
        (Pop3Request.Auth) Pop3Request.parse("auth plain AGJvYgBwdw==".getBytes());
    assertThat(auth.mechanism()).isEqualTo("PLAIN");
    assertThat(new String(auth.initialResponse())).isEqualTo("AGJvYgBwdw==");
    assertThat(((Pop3Request.Auth) Pop3Request.parse("AUTH".getBytes())).mechanism()).isNull();
    assertThat(((Pop3Request.Auth) Pop3Request.parse("AUTH LOGIN =".getBytes()))
        .initialResponse()).isEmpty();
  }
}
