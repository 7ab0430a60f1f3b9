package io.postern.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DemoMessagesTest {

  @Test
  void messagesHaveFixedUidsAndCrlfLineEnds() {
    assertThat(DemoMessages.ALL).extracting(DemoMessage::uid).containsExactly(1L, 2L, 3L);
    for (DemoMessage message : DemoMessages.ALL) {
      String text = new String(message.raw(), StandardCharsets.UTF_8);
      assertThat(text.replace("\r\n", "")).doesNotContain("\r").doesNotContain("\n");
      assertThat(text).endsWith("\r\n");
      assertThat(message.size()).isEqualTo(message.raw().length);
      assertThat(message.header().length + message.body().length).isEqualTo(message.size());
      assertThat(new String(message.header(), StandardCharsets.UTF_8)).endsWith("\r\n\r\n");
    }
  }

  @Test
  void welcomeExplainsPosternAndTheProxyPath() {
    String body = new String(DemoMessages.ALL.get(0).body(), StandardCharsets.US_ASCII);

    assertThat(body).contains("POP3 and IMAP proxy").contains("through").contains("the proxy");
  }

  @Test
  void secondMessageHasEncodedSubjectAndEightBitBody() {
    DemoMessage message = DemoMessages.ALL.get(1);
    HeaderField subject = message.mime().field("Subject").orElseThrow();

    assertThat(subject.value()).startsWith("=?UTF-8?B?").endsWith("?=").hasSizeLessThan(76);
    assertThat(subject.decodedValue()).isEqualTo(DemoMessages.INTERNATIONAL_SUBJECT);
    assertThat(message.mime().field("From").orElseThrow().decodedValue())
        .isEqualTo("Jos\u00e9 M\u00fcller <jose@demo.invalid>");
    assertThat(eightBit(message.header())).isFalse();
    assertThat(eightBit(message.body())).isTrue();
    assertThat(message.mime().transferEncoding()).isEqualTo("8bit");
  }

  @Test
  void thirdMessageIsMultipartWithTextAttachment() {
    DemoMessage message = DemoMessages.ALL.get(2);
    MimeEntity mime = message.mime();

    assertThat(mime.contentType().value()).isEqualTo("multipart/mixed");
    assertThat(mime.parts()).hasSize(2);
    MimeEntity attachment = mime.parts().get(1);
    assertThat(attachment.disposition().orElseThrow().params())
        .containsEntry("filename", "notes.txt");
    String notes =
        new String(message.slice(attachment.bodyStart(), attachment.end()), StandardCharsets.UTF_8);
    assertThat(notes).startsWith("Postern demo notes\r\n").endsWith("..and this one.\r\n");
  }

  @Test
  void bodyStructureOfSinglePartMessage() {
    DemoMessage message = DemoMessages.ALL.get(1);
    ImapOutput out = new ImapOutput();
    ImapStructure.body(out, message, true);

    assertThat(out.buffer().toString())
        .isEqualTo(
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"8BIT\" "
                + message.body().length
                + " "
                + lines(message.body())
                + " NIL NIL NIL NIL)");
  }

  private static boolean eightBit(byte[] data) {
    for (byte b : data) {
      if (b < 0) {
        return true;
      }
    }
    return false;
  }

  private static int lines(byte[] body) {
    return (int) new String(body, StandardCharsets.UTF_8).chars().filter(c -> c == '\n').count();
  }
}
