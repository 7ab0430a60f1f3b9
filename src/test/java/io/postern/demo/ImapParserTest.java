package io.postern.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ImapParserTest {

  private static ImapCommand parse(String text) throws ImapSyntaxException {
    return ImapParser.parse(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(ImapToken token) {
    return ((ImapToken.Text) token).utf8();
  }

  @Test
  void parsesAtomsQuotedStringsAndLiterals() throws ImapSyntaxException {
    ImapCommand command = parse("a1 login \"de\\\"mo\" {5}\r\np w d");

    assertThat(command.tag()).isEqualTo("a1");
    assertThat(command.name()).isEqualTo("LOGIN");
    assertThat(text(command.args().get(0))).isEqualTo("de\"mo");
    assertThat(text(command.args().get(1))).isEqualTo("p w d");
  }

  @Test
  void keepsBracketedFetchItemsWhole() throws ImapSyntaxException {
    ImapCommand command =
        parse("t FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100> UID)");

    assertThat(command.args().get(0)).isEqualTo(new ImapToken.Atom("1:*"));
    ImapToken.Group items = (ImapToken.Group) command.args().get(1);
    assertThat(items.items())
        .containsExactly(
            new ImapToken.Atom("FLAGS"),
            new ImapToken.Atom("BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>"),
            new ImapToken.Atom("UID"));
  }

  @Test
  void parsesNestedGroups() throws ImapSyntaxException {
    ImapCommand command = parse("t SEARCH (OR (SEEN) (FLAGGED)) ALL");

    assertThat(command.args()).hasSize(2);
    assertThat(((ImapToken.Group) command.args().get(0)).items()).hasSize(3);
  }

  @Test
  void rejectsMalformedCommands() {
    for (String bad :
        List.of(
            "",
            "+tag NOOP",
            "t",
            "t LOGIN \"open",
            "t LOGIN {5}\r\nabc",
            "t SEARCH (ALL",
            "t SEARCH ALL)",
            "t FETCH 1 BODY[HEADER",
            "t X " + "(".repeat(100))) {
      assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(ImapSyntaxException.class);
    }
  }

  @Test
  void sequenceSets() throws ImapSyntaxException {
    SequenceSet set = SequenceSet.parse("1,3:4,7:*");

    assertThat(set.contains(1, 9)).isTrue();
    assertThat(set.contains(2, 9)).isFalse();
    assertThat(set.contains(4, 9)).isTrue();
    assertThat(set.contains(9, 9)).isTrue();
    assertThat(SequenceSet.parse("*").contains(3, 3)).isTrue();
    assertThat(SequenceSet.parse("9:*").contains(3, 3)).isTrue();
    for (String bad : List.of("0", "1:", ":2", "1::2", "a", "1,,2", "99999999999")) {
      assertThatThrownBy(() -> SequenceSet.parse(bad))
          .as(bad)
          .isInstanceOf(ImapSyntaxException.class);
    }
  }

  @Test
  void fetchItemsAndSections() throws ImapSyntaxException {
    List<FetchItem> items =
        FetchItem.parseAll(
            parse("t F (rfc822.size BODY[] BODY.PEEK[1.MIME] BODY[HEADER.FIELDS.NOT (X Y)]<5.10>)")
                .args()
                .get(0));

    assertThat(items.get(0)).isEqualTo(FetchItem.Plain.RFC822_SIZE);
    assertThat(((FetchItem.Section) items.get(1)).label()).isEqualTo("BODY[]");
    assertThat(items.get(1).setsSeen()).isTrue();
    assertThat(((FetchItem.Section) items.get(2)).label()).isEqualTo("BODY[1.MIME]");
    assertThat(items.get(2).setsSeen()).isFalse();
    assertThat(((FetchItem.Section) items.get(3)).label())
        .isEqualTo("BODY[HEADER.FIELDS.NOT (X Y)]<5>");
    assertThat(FetchItem.parseAll(new ImapToken.Atom("ALL"))).hasSize(4);
    for (String bad :
        List.of("BODY[MIME]", "BODY[1.]", "BODY[HEADER.FIELDS]", "RFC822_SIZE", "X")) {
      assertThatThrownBy(() -> FetchItem.parseAll(new ImapToken.Atom(bad)))
          .as(bad)
          .isInstanceOf(ImapSyntaxException.class);
    }
  }

  @Test
  void saslPlainDecoding() {
    String encoded =
        java.util.Base64.getEncoder()
            .encodeToString("\0demo\0demo".getBytes(StandardCharsets.UTF_8));

    assertThat(SaslPlain.decode(encoded).orElseThrow().authenticates()).isTrue();
    assertThat(SaslPlain.decode("not base64!")).isEmpty();
    assertThat(SaslPlain.decode("=")).isEmpty();
    String otherAuthz =
        java.util.Base64.getEncoder()
            .encodeToString("root\0demo\0demo".getBytes(StandardCharsets.UTF_8));
    assertThat(SaslPlain.decode(otherAuthz).orElseThrow().authenticates()).isFalse();
    assertThat(SaslPlain.decode(encoded).orElseThrow().toString())
        .doesNotContain("demo\0")
        .contains("****");
  }
}
