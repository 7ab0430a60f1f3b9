package io.postern.imap;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ImapRequestsTest {

  private static ImapRequest parse(String input) {
    ImapDecoder decoder = new ImapDecoder(8192, 8192);
    decoder.feed(input.getBytes(StandardCharsets.ISO_8859_1));
    ImapInput in;
    while ((in = decoder.next()) instanceof ImapInput.LiteralWanted) {
      // the test sends literals along with the line
    }
    return ImapRequests.parse(((ImapInput.Frame) in).frame());
  }

  private static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void parseShouldUnescapeQuotedStrings() {
    ImapRequest.Login login = (ImapRequest.Login) parse(
        "a01 LOGIN \"te\\\\\\\"st@example.com\" \"se\\\\\\\"cret\"\r\n");
    assertThat(text(login.user())).isEqualTo("te\\\"st@example.com");
    assertThat(login.password().text()).isEqualTo("se\\\"cret");
  }

  @Test
  void parseShouldTakeLiteralsVerbatim() {
    ImapRequest.Login login = (ImapRequest.Login) parse(
        "a LOGIN {18+}\r\nte\\\"st@example.com {7+}\r\nse\"cret\r\n");
    assertThat(text(login.user())).isEqualTo("te\\\"st@example.com");
    assertThat(login.password().text()).isEqualTo("se\"cret");
  }

  @Test
  void parseShouldAcceptMixedCaseCommandsAndExtraSpaces() {
    assertThat(parse("x lOgIn  bob   pw\r\n")).isInstanceOf(ImapRequest.Login.class);
    assertThat(parse("x capability\r\n")).isInstanceOf(ImapRequest.Capability.class);
  }

  @Test
  void loginShouldTakeAMasterLoginsNameUnquotedAsDovecotDoes() {
    // imaplib sends LOGIN's user as it is; '*' and '%' are list wildcards, not atom chars.
    ImapRequest.Login login = (ImapRequest.Login) parse("a LOGIN alice*support \"pw\"\r\n");
    assertThat(text(login.user())).isEqualTo("alice*support");
    assertThat(text(((ImapRequest.Login) parse("a LOGIN a%b pw\r\n")).user())).isEqualTo("a%b");
    // Only there: the password and other atoms stay strict.
    assertThat(parse("a LOGIN alice pw*\r\n")).isInstanceOf(ImapRequest.Invalid.class);
    assertThat(parse("a LOGIN alice(x pw\r\n")).isInstanceOf(ImapRequest.Invalid.class);
  }

  @Test
  void parseShouldRefuseLoginWithoutTwoArguments() {
    assertThat(parse("a LOGIN\r\n")).isInstanceOf(ImapRequest.Invalid.class);
    assertThat(parse("a LOGIN onlyuser\r\n")).isInstanceOf(ImapRequest.Invalid.class);
    assertThat(parse("a LOGIN a b c\r\n")).isInstanceOf(ImapRequest.Invalid.class);
  }

  @Test
  void parseShouldRefuseBadTagsWithoutEchoingThem() {
    for (String line : new String[] {"+a NOOP", "a+b NOOP", "* NOOP", "\"a\" NOOP", " NOOP",
        "(a NOOP", "%a NOOP", "a{ NOOP", "t".repeat(65) + " NOOP"}) {
      ImapRequest r = parse(line + "\r\n");
      assertThat(r).as(line).isInstanceOf(ImapRequest.Invalid.class);
      assertThat(r.tag()).as(line).isNull();
    }
  }

  @Test
  void parseShouldRefuseNulAndBadEscapesInQuotedStrings() {
    assertThat(parse("a LOGIN \"b\0b\" pw\r\n")).isInstanceOf(ImapRequest.Invalid.class);
    assertThat(parse("a LOGIN \"b\\ob\" pw\r\n")).isInstanceOf(ImapRequest.Invalid.class);
    assertThat(parse("a LOGIN {3+}\r\nb\0b pw\r\n")).isInstanceOf(ImapRequest.Invalid.class);
  }

  @Test
  void parseShouldNotAllowOtherCommandsBeforeLogin() {
    ImapRequest r = parse("a SELECT INBOX\r\n");
    assertThat(r).isEqualTo(new ImapRequest.NotAllowed("a", "SELECT"));
  }

  @Test
  void parseShouldReadAuthenticateWithAndWithoutInitialResponse() {
    ImapRequest.Authenticate plain = (ImapRequest.Authenticate) parse(
        "a AUTHENTICATE plain AGJvYgBwdw==\r\n");
    assertThat(plain.mechanism()).isEqualTo("PLAIN");
    assertThat(new String(plain.initialResponse(), StandardCharsets.US_ASCII))
        .isEqualTo("AGJvYgBwdw==");
    assertThat(((ImapRequest.Authenticate) parse("a AUTHENTICATE LOGIN\r\n")).initialResponse())
        .isNull();
    assertThat(((ImapRequest.Authenticate) parse("a AUTHENTICATE LOGIN =\r\n")).initialResponse())
        .isEmpty();
  }

  @Test
  void parseShouldRefuseAnInitialResponseSentAsLiteralOrQuoted() {
    assertThat(parse("a AUTHENTICATE PLAIN {4+}\r\nAAAA\r\n"))
        .isInstanceOf(ImapRequest.Invalid.class);
    assertThat(parse("a AUTHENTICATE PLAIN \"AAAA\"\r\n")).isInstanceOf(ImapRequest.Invalid.class);
  }

  @Test
  void parseShouldReadIdListsAndNil() {
    ImapRequest.Id id = (ImapRequest.Id) parse("a ID (\"name\" \"Thunderbird\" \"os\" NIL)\r\n");
    assertThat(id.fields()).hasSize(4);
    assertThat(text(id.fields().get(1))).isEqualTo("Thunderbird");
    assertThat(id.fields().get(3)).isNull();
    assertThat(((ImapRequest.Id) parse("a ID NIL\r\n")).fields()).isNull();
  }

  @Test
  void parseShouldRefuseNestedListsAndTooManyIdPairs() {
    assertThat(parse("a ID ((\"a\" \"b\"))\r\n")).isInstanceOf(ImapRequest.Invalid.class);
    assertThat(parse("a NOOP (((((\r\n")).isInstanceOf(ImapRequest.Invalid.class);
    String pairs = "\"k\" \"v\" ".repeat(31).trim();
    assertThat(parse("a ID (" + pairs + ")\r\n")).isInstanceOf(ImapRequest.Invalid.class);
  }

  @Test
  void toStringShouldNeverShowThePassword() {
    ImapRequest login = parse("a LOGIN bob Canary-1234\r\n");
    assertThat(login.toString()).doesNotContain("Canary-1234");
  }
}
