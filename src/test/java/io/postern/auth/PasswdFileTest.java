package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PasswdFileTest {

  private static final String SHA512_CRYPT =
      "{SHA512-CRYPT}$6$.AmPXYZShNu9riuG$387V7ZC.VqqGKZ9L8W3vsPg//UqrE3R6ryo0Ce7dVjOwkw8.cIQZlc14pu27LikB6MJre0iml2nzyfvjdkWQE/";

  private static PasswdEntry only(String content) throws PasswdFileException {
    PasswdFile file = PasswdFile.parse(content, "users");
    assertThat(file.size()).isEqualTo(1);
    String user = content.strip().split(":", 2)[0];
    return file.find(user).orElseThrow();
  }

  @Test
  void parseShouldReadEveryFieldWhenLineIsFull() throws Exception {
    PasswdEntry bob = only(
        "bob:" + SHA512_CRYPT + ":1000:1000:Bob Smith:/home/bob:/bin/false:"
            + "backend=imap1 host=10.0.0.5 destuser=bob@internal pass=backendpw nologin reason=moved");

    assertThat(bob.user()).isEqualTo("bob");
    assertThat(bob.password()).isEqualTo(SHA512_CRYPT);
    assertThat(bob.backend()).isEqualTo("imap1");
    assertThat(bob.host()).isEqualTo("10.0.0.5");
    assertThat(bob.destuser()).isEqualTo("bob@internal");
    assertThat(bob.pass()).isEqualTo(Secret.of("backendpw"));
    assertThat(bob.nologin()).isTrue();
    assertThat(bob.reason()).isEqualTo("moved");
    assertThat(bob.line()).isEqualTo(1);
    assertThat(PasswordSchemes.verify(bob.password(), Secret.of("Tr0ub4dor&3"))).isTrue();
  }

  @Test
  void parseShouldLeaveOptionalFieldsNullWhenLineHasOnlyUserAndPassword() throws Exception {
    PasswdEntry alice = only("alice:{PLAIN}x");

    assertThat(alice.password()).isEqualTo("{PLAIN}x");
    assertThat(alice.backend()).isNull();
    assertThat(alice.host()).isNull();
    assertThat(alice.destuser()).isNull();
    assertThat(alice.pass()).isNull();
    assertThat(alice.nologin()).isFalse();
    assertThat(alice.reason()).isNull();
  }

  @Test
  void parseShouldAcceptEmptyFieldsWhenLineHasAllColons() throws Exception {
    PasswdEntry alice = only("alice:{PLAIN}x::::::");

    assertThat(alice.password()).isEqualTo("{PLAIN}x");
    assertThat(alice.host()).isNull();
  }

  @Test
  void parseShouldReadExtraFieldsWhenUserdbFieldsAreEmpty() throws Exception {
    PasswdEntry alice = only("alice:{PLAIN}x::::::host=imap.example.net");

    assertThat(alice.host()).isEqualTo("imap.example.net");
  }

  @Test
  void parseShouldLockUserWhenPasswordFieldIsEmpty() throws Exception {
    PasswdFile file = PasswdFile.parse("carol:\ndave::::::::host=h\n", "users");

    assertThat(file.find("carol").orElseThrow().password()).isEmpty();
    assertThat(PasswordSchemes.verify(file.find("carol").orElseThrow().password(), Secret.of("")))
        .isFalse();
    assertThat(PasswordSchemes.verify(file.find("dave").orElseThrow().password(), Secret.of("x")))
        .isFalse();
  }

  @Test
  void parseShouldReadBareHashAsCryptWhenNoSchemePrefix() throws Exception {
    PasswdEntry erin = only("erin:$1$n7t7Ilv9$LZ3AD3HKkLDoXbfChGGSq1:1000:1000::/home/erin:");

    assertThat(PasswordSchemes.verify(erin.password(), Secret.of("Tr0ub4dor&3"))).isTrue();
  }

  @Test
  void parseShouldSkipCommentsAndBlankLinesWhileCountingThem() throws Exception {
    PasswdFile file = PasswdFile.parse(
        "# users\n\n   \nbob:{PLAIN}a\n#carol:{PLAIN}b\nalice:{PLAIN}c\n",
        "users");

    assertThat(file.size()).isEqualTo(2);
    assertThat(file.find("bob").orElseThrow().line()).isEqualTo(4);
    assertThat(file.find("alice").orElseThrow().line()).isEqualTo(6);
    assertThat(file.find("carol")).isEmpty();
  }

  @Test
  void parseShouldStripCarriageReturnWhenLinesEndInCrlf() throws Exception {
    PasswdFile file = PasswdFile.parse("bob:{PLAIN}a::::::host=h1\r\nalice:{PLAIN}b\r\n", "users");

    assertThat(file.find("bob").orElseThrow().host()).isEqualTo("h1");
    assertThat(file.find("alice").orElseThrow().password()).isEqualTo("{PLAIN}b");
  }

  @Test
  void parseShouldIgnoreByteOrderMarkWhenFileStartsWithOne() throws Exception {
    PasswdFile file = PasswdFile.parse("\uFEFFbob:{PLAIN}a\n", "users");

    assertThat(file.find("bob")).isPresent();
  }

  @Test
  void entriesShouldListUsersInFileOrder() throws Exception {
    PasswdFile file = PasswdFile.parse("carol:{PLAIN}a\n# x\nAlice:{PLAIN}b\nbob:{PLAIN}c\n", "users");

    assertThat(file.entries()).extracting(PasswdEntry::user).containsExactly("carol", "alice", "bob");
    assertThat(file.entries()).extracting(PasswdEntry::line).containsExactly(1, 3, 4);
  }

  @Test
  void findShouldIgnoreCaseWhenUserNameDiffersInCase() throws Exception {
    PasswdFile file = PasswdFile.parse("Bob.Smith@Example.COM:{PLAIN}a\n", "users");

    assertThat(file.find("bob.smith@example.com").orElseThrow().user())
        .isEqualTo("bob.smith@example.com");
    assertThat(file.find("BOB.SMITH@EXAMPLE.COM")).isPresent();
    assertThat(file.find("bob")).isEmpty();
  }

  @Test
  void parseShouldIgnoreUnknownKeysWhenExtraFieldsCarryDovecotSettings() throws Exception {
    PasswdEntry bob = only("bob:{PLAIN}a:1000:1000::/home/bob::"
        + "userdb_quota_rule=*:storage=1G proxy=y port=143 ssl=yes host=backend1 userdb_mail=maildir:~/Maildir");

    assertThat(bob.host()).isEqualTo("backend1");
    assertThat(bob.backend()).isNull();
  }

  @Test
  void parseShouldEndValueAtSpaceWhenReasonContainsSpaces() throws Exception {
    // Dovecot splits extra fields on spaces with no quoting or escaping (db-passwd-file.c).
    PasswdEntry bob = only("bob:{PLAIN}a::::::nologin reason=System is being upgraded");

    assertThat(bob.reason()).isEqualTo("System");
    assertThat(bob.nologin()).isTrue();
  }

  @Test
  void parseShouldSkipRepeatedSpacesWhenSeparatingExtraFields() throws Exception {
    PasswdEntry bob = only("bob:{PLAIN}a::::::   host=h1    destuser=b   ");

    assertThat(bob.host()).isEqualTo("h1");
    assertThat(bob.destuser()).isEqualTo("b");
  }

  @Test
  void parseShouldKeepLastValueWhenKeyRepeats() throws Exception {
    assertThat(only("bob:{PLAIN}a::::::host=h1 host=h2").host()).isEqualTo("h2");
  }

  @Test
  void parseShouldSetNologinWhenKeyHasAValue() throws Exception {
    assertThat(only("bob:{PLAIN}a::::::nologin=y").nologin()).isTrue();
  }

  @Test
  void parseShouldLeaveReasonNullWhenValueIsEmpty() throws Exception {
    assertThat(only("bob:{PLAIN}a::::::nologin reason=").reason()).isNull();
  }

  @Test
  void parseShouldKeepColonsWhenExtraFieldValueHasThem() throws Exception {
    PasswdEntry bob = only("bob:{PLAIN}a::::::host=[2001:db8::1] destuser=a:b");

    assertThat(bob.host()).isEqualTo("[2001:db8::1]");
    assertThat(bob.destuser()).isEqualTo("a:b");
  }

  @Test
  void parseShouldIgnoreTrailingFieldsWhenLineUsesOldMailFormat() throws Exception {
    // Dovecot's old format: empty 8th field, then a mail location that may contain ':'.
    PasswdEntry bob = only("bob:{PLAIN}a:1000:1000::/home/bob:/bin/sh::maildir:~/Maildir host=x");

    assertThat(bob.host()).isNull();
  }

  @Test
  void parseShouldTurnDoublePercentIntoPercentWhenValueIsExpanded() throws Exception {
    PasswdEntry bob = only("bob:{PLAIN}a::::::pass=50%%off reason=100%%");

    assertThat(bob.pass()).isEqualTo(Secret.of("50%off"));
    assertThat(bob.reason()).isEqualTo("100%");
  }

  @Test
  void parseShouldReadLibpamFormatWhenPasswordEndsInBracketedNumber() throws Exception {
    PasswdFile file = PasswdFile.parse(
        "dave:4ece57a61323b52ccffdbef021956754[34]\nerin:2ECBxgHGtFBgg[13]\n", "users");

    PasswdEntry dave = file.find("dave").orElseThrow();
    PasswdEntry erin = file.find("erin").orElseThrow();
    assertThat(dave.password()).isEqualTo("{PLAIN-MD5}4ece57a61323b52ccffdbef021956754");
    assertThat(erin.password()).isEqualTo("{CRYPT}2ECBxgHGtFBgg");
    assertThat(PasswordSchemes.verify(dave.password(), Secret.of("Tr0ub4dor&3"))).isTrue();
    assertThat(PasswordSchemes.verify(erin.password(), Secret.of("Tr0ub4dor&3"))).isTrue();
  }

  static Stream<Arguments> badFiles() {
    return Stream.of(
        arguments("bob:{PLAIN}a\n\njust-a-name\n", 3, "no ':' after the user name"),
        arguments("# c\n:{PLAIN}a\n", 2, "empty user name"),
        arguments("bob:{PLAIN}a\nbo b:{PLAIN}a\n", 2, "user name contains whitespace or a control character"),
        arguments("bo\tb:{PLAIN}a\n", 1, "user name contains whitespace or a control character"),
        arguments("x\n", 1, "no ':' after the user name"),
        arguments("\n\nbo\u0007b:{PLAIN}a\n", 3, "user name contains whitespace or a control character"),
        arguments("bo\u00a0b:{PLAIN}a\n", 1, "user name contains whitespace or a control character"),
        arguments(" bob:{PLAIN}a\n", 1, "user name contains whitespace or a control character"),
        arguments("bob:{PLAIN}a\nalice:{PLAIN}b\n#\nBOB:{PLAIN}c\n", 4, "user 'bob' is already defined on line 1"),
        arguments("bob:{FOO}abc\n", 1, "password of user 'bob': unknown scheme {FOO}"),
        arguments("\nbob:{SHA512-CRYPT}$6$abc$def\n", 2, "password of user 'bob': malformed SHA512-CRYPT hash"),
        arguments("bob:$7$notsupported::::::\n", 1, "password of user 'bob': malformed or unsupported CRYPT hash"),
        arguments("bob:abcdef0123456789[56]\n", 1, "password of user 'bob': unknown scheme {DIGEST-MD5}"),
        arguments("bob:{PLAIN}a::::::pass=\n", 1, "empty value for pass="),
        arguments("bob:{PLAIN}a::::::pass\n", 1, "empty value for pass="),
        arguments("a:{PLAIN}a\nbob:{PLAIN}a::::::host=\n", 2, "empty value for host="),
        arguments("bob:{PLAIN}a::::::destuser= host=h\n", 1, "empty value for destuser="),
        arguments("bob:{PLAIN}a::::::backend=\n", 1, "empty value for backend="),
        arguments("bob:{PLAIN}a::::::destuser=%u\n", 1,
            "destuser= uses a %-variable, which Postern does not expand (write %% for '%')"));
  }

  @ParameterizedTest(name = "{2}")
  @MethodSource("badFiles")
  void parseShouldReportLineNumberWhenLineIsInvalid(String content, int line, String what) {
    PasswdFileException e =
        catchThrowableOfType(PasswdFileException.class, () -> PasswdFile.parse(content, "users"));

    assertThat(e).hasMessage("users:" + line + ": " + what);
    assertThat(e.line()).isEqualTo(line);
  }

  @Test
  void readShouldNameThePathWhenFileHasAnError(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("passwd");
    Files.writeString(path, "bob:{PLAIN}a\nbob:{PLAIN}b\n", StandardCharsets.UTF_8);

    assertThatThrownBy(() -> PasswdFile.read(path))
        .isInstanceOf(PasswdFileException.class)
        .hasMessage(path + ":2: user 'bob' is already defined on line 1");
  }

  @Test
  void readShouldDecodeUtf8WhenFileHasNonAsciiContent(@TempDir Path dir) throws Exception {
    Path path = dir.resolve("passwd");
    Files.writeString(path, "j\u00fcrgen:{PLAIN}gr\u00fc\u00dfe::::::reason=f\u00fcr\n",
        StandardCharsets.UTF_8);

    PasswdEntry entry = PasswdFile.read(path).find("J\u00dcRGEN").orElseThrow();
    assertThat(entry.reason()).isEqualTo("f\u00fcr");
    assertThat(PasswordSchemes.verify(entry.password(), Secret.of("gr\u00fc\u00dfe"))).isTrue();
  }

  @Test
  void toStringShouldNeverShowPasswordOrPass() throws Exception {
    PasswdEntry bob = only("bob:{PLAIN}TopSecret1::::::pass=BackendSecret2 host=h");

    assertThat(bob.toString())
        .contains("bob", "host=h", "pass=(set)")
        .doesNotContain("TopSecret1", "BackendSecret2");
    assertThat(PasswdFile.parse("bob:{PLAIN}TopSecret1", "users").toString())
        .doesNotContain("TopSecret1");
  }

  @Test
  void exceptionShouldNeverShowPasswordOrPassWhenLineHasThem() {
    String[] lines = {
        "bob:{PLAIN}TopSecret1::::::pass=BackendSecret2 host=",
        "bob:{PLAIN}TopSecret1::::::pass=Backend%Secret2",
        "bob:{SHA512-CRYPT}TopSecret1::::::pass=BackendSecret2",
        "bob:{TopSecret1::::::pass=BackendSecret2",
        "bob:{Top Secret1}x::::::pass=BackendSecret2",
        "bo b:TopSecret1::::::pass=BackendSecret2",
        "bob:{PLAIN}TopSecret1::::::pass=BackendSecret2\nBob:{PLAIN}TopSecret1::::::pass=BackendSecret2",
    };
    for (String line : lines) {
      PasswdFileException e =
          catchThrowableOfType(PasswdFileException.class, () -> PasswdFile.parse(line, "users"));
      assertThat(e).as(line).isNotNull();
      assertThat(e.getMessage()).doesNotContain("TopSecret1", "Top Secret1", "BackendSecret2", "Secret");
    }
  }
}
