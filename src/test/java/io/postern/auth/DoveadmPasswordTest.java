package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.postern.credentials.Secret;
import io.postern.it.RealParts;
import io.postern.testing.ExternalCommand;
import io.postern.testing.ProcessResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the real {@code doveadm pw} at test time: hashes it makes now must verify, and hashes
 * Postern accepts must pass {@code doveadm pw -t} too. Without doveadm the class is skipped,
 * except under CI=true, where it fails instead (see {@link RealParts}).
 */
class DoveadmPasswordTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final List<String> SCHEMES = List.of(
      // Required.
      "PLAIN", "CLEAR", "CLEARTEXT", "CRYPT", "MD5-CRYPT", "MD5", "SHA256-CRYPT", "SHA512-CRYPT",
      "BLF-CRYPT", "DES-CRYPT", "SSHA", "SSHA256", "SSHA512", "ARGON2I", "ARGON2ID",
      // Extra digests, encodings and PBKDF2.
      "SHA", "SHA1", "SHA256", "SHA512", "SMD5", "PLAIN-MD5", "LDAP-MD5", "PBKDF2",
      "SHA256.HEX", "SSHA512.HEX", "PLAIN-MD5.B64", "SSHA.B64");

  private static final List<String> PASSWORDS = List.of(
      PasswordSchemesTest.PASSWORD,
      PasswordSchemesTest.UTF8_PASSWORD,
      PasswordSchemesTest.SPACE_PASSWORD);

  private static String doveadm;

  @BeforeAll
  static void findDoveadm() {
    doveadm = RealParts.require("doveadm").toString();
  }

  static Stream<Arguments> schemesAndPasswords() {
    List<Arguments> all = new ArrayList<>();
    for (String scheme : SCHEMES) {
      for (String password : PASSWORDS) {
        all.add(arguments(scheme, password));
      }
    }
    return all.stream();
  }

  @ParameterizedTest(name = "{0} \"{1}\"")
  @MethodSource("schemesAndPasswords")
  void verifyShouldAcceptWhenHashMadeByDoveadmNow(String scheme, String password) throws Exception {
    String hash = generate(List.of("-s", scheme), password);

    assertThat(hash).startsWith("{" + scheme + "}");
    assertThat(PasswordSchemes.problem(hash)).isEmpty();
    assertThat(PasswordSchemes.verify(hash, Secret.of(password))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of(PasswordSchemesTest.wrong(password)))).isFalse();
    assertThat(PasswordSchemes.verify(hash, Secret.of(""))).isFalse();
  }

  @ParameterizedTest(name = "{0} -r {1}")
  @MethodSource("schemesWithRounds")
  void verifyShouldAcceptWhenDoveadmUsedCustomRounds(String scheme, String rounds) throws Exception {
    String hash = generate(List.of("-s", scheme, "-r", rounds), PasswordSchemesTest.PASSWORD);

    assertThat(PasswordSchemes.verify(hash, Secret.of(PasswordSchemesTest.PASSWORD))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of("x" + PasswordSchemesTest.PASSWORD))).isFalse();
  }

  static Stream<Arguments> schemesWithRounds() {
    return Stream.of(
        arguments("SHA512-CRYPT", "6000"),
        arguments("SHA256-CRYPT", "1000"),
        arguments("BLF-CRYPT", "4"),
        arguments("BLF-CRYPT", "7"),
        arguments("PBKDF2", "1500"));
  }

  static Stream<Arguments> acceptedByPostern() {
    return Stream.concat(
        PasswordSchemesTest.doveadmVectors().map(a -> arguments(a.get()[1], a.get()[2])),
        Stream.of(
            arguments("$6$.AmPXYZShNu9riuG$387V7ZC.VqqGKZ9L8W3vsPg//UqrE3R6ryo0Ce7dVjOwkw8.cIQZlc14pu27LikB6MJre0iml2nzyfvjdkWQE/",
                PasswordSchemesTest.PASSWORD),
            arguments("{BLF-CRYPT}$2a$05$hzRaW7dPrzdfBctxjs85EOmPzkGyjs1GC/DMffXwkVkZP3Wkk2NgK",
                PasswordSchemesTest.PASSWORD),
            arguments("{CRYPT}$2b$05$hzRaW7dPrzdfBctxjs85EOmPzkGyjs1GC/DMffXwkVkZP3Wkk2NgK",
                PasswordSchemesTest.PASSWORD),
            arguments("{SHA}874572e7a5ae6a49466a6ac578b98adba78c6aa6", PasswordSchemesTest.PASSWORD),
            arguments("{MD5}Ts5XphMjtSzP/b7wIZVnVA==", PasswordSchemesTest.PASSWORD),
            arguments("{sha512-crypt}$6$.AmPXYZShNu9riuG$387V7ZC.VqqGKZ9L8W3vsPg//UqrE3R6ryo0Ce7dVjOwkw8.cIQZlc14pu27LikB6MJre0iml2nzyfvjdkWQE/",
                PasswordSchemesTest.PASSWORD)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("acceptedByPostern")
  void dovecotShouldAcceptWhenPosternAccepts(String hash, String password) throws Exception {
    assertThat(PasswordSchemes.verify(hash, Secret.of(password))).isTrue();
    assertThat(test(hash, password)).as("doveadm pw -t").isZero();

    String wrong = PasswordSchemesTest.wrong(password);
    assertThat(PasswordSchemes.verify(hash, Secret.of(wrong))).isFalse();
    assertThat(test(hash, wrong)).as("doveadm pw -t with a wrong password").isNotZero();
  }

  @Test
  void verifyShouldAcceptWhenSha512CryptMadeByDoveadm() throws Exception {
    String hash = generate(List.of("-s", "SHA512-CRYPT"), "s3cret with space");

    assertThat(hash).startsWith("{SHA512-CRYPT}$6$");
    assertThat(PasswordSchemes.verify(hash, Secret.of("s3cret with space"))).isTrue();
  }

  /** {@code doveadm pw <args> -p <password>}, returning the hash it prints. */
  private static String generate(List<String> args, String password) throws Exception {
    List<String> command = new ArrayList<>(List.of(doveadm, "pw"));
    command.addAll(args);
    ProcessResult result = run(command, null, password);
    assertThat(result.exitCode()).as("doveadm pw %s exit status; stderr: %s", args, result.stderr())
        .isZero();
    return result.stdoutUtf8().strip();
  }

  /** Exit status of {@code doveadm pw -t <hash> -p <password>}: 0 when Dovecot verifies it. */
  private static int test(String hash, String password) throws Exception {
    // doveadm pw -t insists on a prefix; a passwd-file reads a bare hash as CRYPT, so say so.
    String prefixed = hash.startsWith("{") ? hash : "{CRYPT}" + hash;
    return run(List.of(doveadm, "pw", "-t"), prefixed, password).exitCode();
  }

  /**
   * Runs {@code command [hash] -p password}. The hash and password travel as printf octal escapes
   * through the environment, so their exact UTF-8 bytes reach doveadm whatever the JVM's locale.
   */
  private static ProcessResult run(List<String> command, String hash, String password)
      throws Exception {
    String script = hash == null
        ? "exec \"$@\" -p \"$(printf \"$POSTERN_PW\")\""
        : "exec \"$@\" \"$(printf \"$POSTERN_HASH\")\" -p \"$(printf \"$POSTERN_PW\")\"";
    List<String> shell = new ArrayList<>(List.of("/bin/sh", "-c", script, "sh"));
    shell.addAll(command);
    return ExternalCommand.run(shell, TIMEOUT, builder -> {
      builder.environment().put("POSTERN_PW", octal(password));
      if (hash != null) {
        builder.environment().put("POSTERN_HASH", octal(hash));
      }
    });
  }

  private static String octal(String text) {
    StringBuilder escaped = new StringBuilder();
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      escaped.append(String.format("\\%03o", b & 0xff));
    }
    return escaped.toString();
  }
}
