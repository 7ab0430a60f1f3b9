package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Fixed vectors, all made with {@code doveadm pw} from Dovecot 2.3.19. */
class PasswordSchemesTest {

  static final String PASSWORD = "Tr0ub4dor&3";
  /** UTF-8 with two- and three-byte characters and a space. */
  static final String UTF8_PASSWORD = "p\u00e4ssw\u00f6rd\u20ac \u00fc";
  static final String SPACE_PASSWORD = "correct horse battery staple";

  static Stream<Arguments> doveadmVectors() {
    return Stream.of(
        arguments("PLAIN", "{PLAIN}Tr0ub4dor&3", PASSWORD),
        arguments("CLEAR", "{CLEAR}Tr0ub4dor&3", PASSWORD),
        arguments("CLEARTEXT", "{CLEARTEXT}Tr0ub4dor&3", PASSWORD),
        arguments("CRYPT", "{CRYPT}$2y$05$Q5iYqkyXI/foaVIzuUbwJexdyoOHDY732N/5iIvfpTzPV0AqgpXMa", PASSWORD),
        arguments("MD5-CRYPT", "{MD5-CRYPT}$1$n7t7Ilv9$LZ3AD3HKkLDoXbfChGGSq1", PASSWORD),
        arguments("MD5", "{MD5}$1$/9i5rqZe$Tmr4wJpIWRtF0LnFWdlQ4.", PASSWORD),
        arguments("SHA256-CRYPT", "{SHA256-CRYPT}$5$g6cl18TSvooc0/ca$iOXdiK7S4sL0pMmon04LDKAnIK3.BILJUQonfoRVny3", PASSWORD),
        arguments("SHA512-CRYPT", "{SHA512-CRYPT}$6$.AmPXYZShNu9riuG$387V7ZC.VqqGKZ9L8W3vsPg//UqrE3R6ryo0Ce7dVjOwkw8.cIQZlc14pu27LikB6MJre0iml2nzyfvjdkWQE/", PASSWORD),
        arguments("BLF-CRYPT", "{BLF-CRYPT}$2y$05$hzRaW7dPrzdfBctxjs85EOmPzkGyjs1GC/DMffXwkVkZP3Wkk2NgK", PASSWORD),
        arguments("DES-CRYPT", "{DES-CRYPT}2ECBxgHGtFBgg", PASSWORD),
        arguments("SSHA", "{SSHA}OvYKivf3VrKNeZeWL5YPVYi4LmgXLKs/", PASSWORD),
        arguments("SSHA256", "{SSHA256}gf+u925a4GnXTQbQkXw0+gz4slVUIaHPDFhuZjJ7SdlYg+Cg", PASSWORD),
        arguments("SSHA512", "{SSHA512}uObGxh/57iUnahhazKhi/I8YbtFA/Mai1/Ll7oXCuD9wCVMC+umAomC2cwcki7FFsTIE3o+pZ4fth/tYvMttC9FAQgc=", PASSWORD),
        arguments("ARGON2I", "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$x3hy/fle/oaMUWoLTaxIKQ$K//5Z78PDDgOATkJsbh5xPBgdZdfURbQxJ8kx3UzKVk", PASSWORD),
        arguments("ARGON2ID", "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$b0FnWQEyOAlqZiipb01qjg$sW471kQxsm2X/DyJ1cYUSAxEdijaHgLHH5LbbfVsgLY", PASSWORD),
        arguments("SHA", "{SHA}h0Vy56WuaklGamrFeLmK26eMaqY=", PASSWORD),
        arguments("SHA1", "{SHA1}h0Vy56WuaklGamrFeLmK26eMaqY=", PASSWORD),
        arguments("SHA256", "{SHA256}SEhuFRToQjRv9AWx5F9EBZroJhnyMG+Z0JQNyzhukfc=", PASSWORD),
        arguments("SHA512", "{SHA512}xyu2IccEDPS2R0BjqaeXJpDiUvNa2+fPr/Wx7iMW7+c4LnI9QeATor+8M8MAfFDFhH0hqInM6DhTbqxyeAjeQA==", PASSWORD),
        arguments("SMD5", "{SMD5}GvgjiwHY6xUffKBqoijL4UOT4Lk=", PASSWORD),
        arguments("PLAIN-MD5", "{PLAIN-MD5}4ece57a61323b52ccffdbef021956754", PASSWORD),
        arguments("LDAP-MD5", "{LDAP-MD5}Ts5XphMjtSzP/b7wIZVnVA==", PASSWORD),
        arguments("PBKDF2", "{PBKDF2}$1$MGoYwsAkbZeFX5rx$5000$6085a4c255bbb0634f4c1cd7d0cb61ca8149520e", PASSWORD),
        arguments("SHA.HEX", "{SHA.HEX}874572e7a5ae6a49466a6ac578b98adba78c6aa6", PASSWORD),
        arguments("SHA256.HEX", "{SHA256.HEX}48486e1514e842346ff405b1e45f44059ae82619f2306f99d0940dcb386e91f7", PASSWORD),
        arguments("SHA512.HEX", "{SHA512.HEX}c72bb621c7040cf4b6474063a9a7972690e252f35adbe7cfaff5b1ee2316efe7382e723d41e013a2bfbc33c3007c50c5847d21a889cce838536eac727808de40", PASSWORD),
        arguments("SSHA.HEX", "{SSHA.HEX}211c5a7e854f11ae517bde89825cb449a8e4e3013ba102c0", PASSWORD),
        arguments("SSHA256.HEX", "{SSHA256.HEX}97dcb19dd148d326ada28beccc36f74f7a4ebce8cc5f0a89dcaaf09d34175ad914d0d719", PASSWORD),
        arguments("SSHA512.HEX", "{SSHA512.HEX}db7a20b8f1377c9350d14ed6c0a4abc4c00c6cf8c8caac1d3b39a6933343c11db4e51758a27245ffbed5b629d35ea45e0a6381f7f09e9a9377e64d8c28bbde167180965c", PASSWORD),
        arguments("SMD5.HEX", "{SMD5.HEX}f26c0282945f0da83567533524637078dd19c0b0", PASSWORD),
        arguments("PLAIN-MD5.B64", "{PLAIN-MD5.B64}Ts5XphMjtSzP/b7wIZVnVA==", PASSWORD),
        arguments("LDAP-MD5.HEX", "{LDAP-MD5.HEX}4ece57a61323b52ccffdbef021956754", PASSWORD),
        arguments("SHA1.B64", "{SHA1.B64}h0Vy56WuaklGamrFeLmK26eMaqY=", PASSWORD),
        arguments("SSHA.B64", "{SSHA.B64}PCSZuREX7hkYpQ5VBiHSSCB0mfIOYgcY", PASSWORD),
        arguments("PLAIN.HEX", "{PLAIN.HEX}547230756234646f722633", PASSWORD),
        arguments("PLAIN.B64", "{PLAIN.B64}VHIwdWI0ZG9yJjM=", PASSWORD),
        // doveadm pw -r ROUNDS: the crypt string then carries rounds=, PBKDF2 its round count.
        arguments("SHA512-CRYPT rounds", "{SHA512-CRYPT}$6$rounds=7000$g2eY71ghLS34fqMk$D0n6e/YB.SRDtwGX3hbGCUrNxDgWP4MBrr74D/n1fOzcMkxcOeVVMQqtsnX3ghSM2DrfNBjwECK.EBWn6EoOH1", PASSWORD),
        arguments("SHA256-CRYPT rounds", "{SHA256-CRYPT}$5$rounds=6000$iJmyIb6MSgx0Oh0A$vMXfceZF8bkRbCR7xQ7zr.WofY6LbGEN5nxLDQC2C7C", PASSWORD),
        arguments("PBKDF2 rounds", "{PBKDF2}$1$IzdNfBGsfTAKTLws$1200$c000f29d3b1a7350ebcf2acf55a75c95de83a6dd", PASSWORD),
        // Non-ASCII (UTF-8) password, which also contains a space.
        arguments("SHA512-CRYPT utf8", "{SHA512-CRYPT}$6$JqPK5HWsJ4StXUkK$EJ4wO.bmphk3pG0D/zTKJGrmusU8a553CTBu52aa3rj9ntGLcnxNkfvpE3k7t00/QTpa/5uWtv.3cwHqM5MMP0", UTF8_PASSWORD),
        arguments("BLF-CRYPT utf8", "{BLF-CRYPT}$2y$05$fWz.W8n6BFSlRVEeiyCXA.Fp7JsKoWJeegDdKGV6EcTh0r3n/J11q", UTF8_PASSWORD),
        arguments("ARGON2ID utf8", "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$d1w7wl0ukk73WMCTGNF1Gw$4ELBUZTvwyQw/Mo/nOgWwxYPBUPnoXNuocSyJlp4Vjo", UTF8_PASSWORD),
        arguments("ARGON2I utf8", "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$TnpfdNOQZuydSNH00CphUw$hQLJS+cOlwbQKOZ5zXvAZ1n/7GTj4PulmCUxqOWzASE", UTF8_PASSWORD),
        arguments("SSHA256 utf8", "{SSHA256}nk4mCHgRs7hB8OgSTEKKGr7+ki5w7esC3dztWwWFZV1W2Zl5", UTF8_PASSWORD),
        arguments("SSHA512 utf8", "{SSHA512}DRA5CpTV8zbzxHsF6ZUFRRQoIC+OQlyz7NOwM+xaHx6i4aZWFtXzfyEf2EmE7ZnQe1XBJzWO70k76/yXOpxuzSCF+3I=", UTF8_PASSWORD),
        arguments("SMD5 utf8", "{SMD5}UaAngINXCOoHmwT96xcL34k7AvY=", UTF8_PASSWORD),
        arguments("LDAP-MD5 utf8", "{LDAP-MD5}ysGUc1bocJ5XB6g7h1Nqhg==", UTF8_PASSWORD),
        arguments("SHA256 utf8", "{SHA256}C3QwszBNMmpHI6+X7LQIZS8ZXwcUbOkPaKxTaXYzTT8=", UTF8_PASSWORD),
        arguments("SHA256-CRYPT utf8", "{SHA256-CRYPT}$5$QvkVRhvSpjiKLjEC$LM5J.v5fN/lpogzLbfqRS4DM7fqRS6iKj68TIjBL7WD", UTF8_PASSWORD),
        arguments("MD5-CRYPT utf8", "{MD5-CRYPT}$1$TA.7X3v1$Go3LYEItZ55FRk2NjO0Mq0", UTF8_PASSWORD),
        arguments("DES-CRYPT utf8", "{DES-CRYPT}V1E.Xr37q5BP.", UTF8_PASSWORD),
        arguments("PBKDF2 utf8", "{PBKDF2}$1$1TFuCC7fuj6VVWKd$5000$136eabf03944465d744400a9f55e18981a047e03", UTF8_PASSWORD),
        arguments("PLAIN utf8", "{PLAIN}p\u00e4ssw\u00f6rd\u20ac \u00fc", UTF8_PASSWORD),
        arguments("CRYPT utf8", "{CRYPT}$2y$05$IE3w1FCZnEhVRR4.TyK4euax27P2uw3WHCZgCa97eg7P8sNt9RQcq", UTF8_PASSWORD),
        // Password with spaces.
        arguments("SHA256-CRYPT space", "{SHA256-CRYPT}$5$g2INpgbd.IAL81.0$hur9nne.G.B5aG1NBXrCSrAmo9yK59KA1ILriSyBMM1", SPACE_PASSWORD),
        arguments("SSHA512 space", "{SSHA512}GemhyVmFfXA8hQg48fFcosJCylzM34L4vqqOtVBhXo9DXB8cqNiSr42R4bKuD4YanVE4miLqmIT4zyVRT87+GKqpyUw=", SPACE_PASSWORD),
        arguments("ARGON2I space", "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$z24hkq/oPrIScJwHK7zzEg$SCLKW6BXNZEdmTIDrqP0zMD5e3iyTXX8KaqwzB3MEbQ", SPACE_PASSWORD),
        arguments("BLF-CRYPT space", "{BLF-CRYPT}$2y$05$XENtfCljVsf19zaoAQXKouC/ezNjZIgsH89XVILrDzwdtJxJ.OLBq", SPACE_PASSWORD),
        arguments("SHA512-CRYPT space", "{SHA512-CRYPT}$6$E8zl3kn5Yu4WV9Eu$79Vm/aTa5C0Too12ZV5hTx5.KUGmFAavigpouMvxCah9alWUqH5lJHoONt1LDORPWLpt/yOw/JliWoMnraNbY.", SPACE_PASSWORD),
        arguments("SSHA space", "{SSHA}yaw9ezNSUI26T/68B/ElSOJxph/43lyV", SPACE_PASSWORD),
        arguments("PBKDF2 space", "{PBKDF2}$1$lbNKvysJUWbvjL0N$5000$0dc1e291ef9927d0480202e5d9369e27e94b0658", SPACE_PASSWORD),
        arguments("DES-CRYPT space", "{DES-CRYPT}cgFTCpxEO4Z2U", SPACE_PASSWORD),
        arguments("ARGON2ID space", "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$bLIZQTh5q+duW9vcEK9EmA$xx6bSZz+EShnEDvxlW2xA0h0v72oUemqgRg1rOAlSKE", SPACE_PASSWORD));
  }

  /** Changes the first character, so even DES-CRYPT (which reads only 8) sees a different password. */
  static String wrong(String password) {
    return (password.charAt(0) == 'X' ? "Y" : "X") + password.substring(1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("doveadmVectors")
  void verifyShouldAcceptRightPasswordWhenHashMadeByDoveadm(String label, String hash, String password) {
    assertThat(PasswordSchemes.verify(hash, Secret.of(password))).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("doveadmVectors")
  void verifyShouldRejectWrongPasswordWhenHashMadeByDoveadm(String label, String hash, String password) {
    assertThat(PasswordSchemes.verify(hash, Secret.of(wrong(password)))).isFalse();
    assertThat(PasswordSchemes.verify(hash, Secret.of("x" + password))).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("doveadmVectors")
  void verifyShouldRejectEmptyPasswordWhenHashMadeByDoveadm(String label, String hash, String password) {
    assertThat(PasswordSchemes.verify(hash, Secret.of(""))).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("doveadmVectors")
  void problemShouldBeEmptyWhenHashMadeByDoveadm(String label, String hash, String password) {
    assertThat(PasswordSchemes.problem(hash)).isEmpty();
  }

  @Test
  void verifyShouldAcceptWhenSha512CryptMadeByDoveadm() {
    String hash = "{SHA512-CRYPT}$6$.AmPXYZShNu9riuG$387V7ZC.VqqGKZ9L8W3vsPg//UqrE3R6ryo0Ce7dVjOwkw8.cIQZlc14pu27LikB6MJre0iml2nzyfvjdkWQE/";

    assertThat(PasswordSchemes.verify(hash, Secret.of(PASSWORD))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of("tr0ub4dor&3"))).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "$1$n7t7Ilv9$LZ3AD3HKkLDoXbfChGGSq1",
      "$5$g6cl18TSvooc0/ca$iOXdiK7S4sL0pMmon04LDKAnIK3.BILJUQonfoRVny3",
      "$6$.AmPXYZShNu9riuG$387V7ZC.VqqGKZ9L8W3vsPg//UqrE3R6ryo0Ce7dVjOwkw8.cIQZlc14pu27LikB6MJre0iml2nzyfvjdkWQE/",
      "$2y$05$hzRaW7dPrzdfBctxjs85EOmPzkGyjs1GC/DMffXwkVkZP3Wkk2NgK",
      "2ECBxgHGtFBgg"})
  void verifyShouldReadBareHashAsCryptWhenNoSchemePrefix(String hash) {
    assertThat(PasswordSchemes.problem(hash)).isEmpty();
    assertThat(PasswordSchemes.verify(hash, Secret.of(PASSWORD))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of(wrong(PASSWORD)))).isFalse();
    assertThat(PasswordSchemes.verify("{CRYPT}" + hash, Secret.of(PASSWORD))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"2a", "2b", "2y"})
  void verifyShouldAcceptBcryptWhenVersionIsAnyOfTheCurrentOnes(String version) {
    // crypt_blowfish gives the same hash for all three when the password is ASCII.
    String hash = "{BLF-CRYPT}$" + version + "$05$hzRaW7dPrzdfBctxjs85EOmPzkGyjs1GC/DMffXwkVkZP3Wkk2NgK";

    assertThat(PasswordSchemes.verify(hash, Secret.of(PASSWORD))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of(wrong(PASSWORD)))).isFalse();
  }

  @Test
  void verifyShouldCutBcryptPasswordAt72BytesLikeDovecot() {
    // doveadm pw -s BLF-CRYPT -r 6 -p <80 times 'a'>
    String hash = "{BLF-CRYPT}$2y$06$F8vUUcOz.TVSJNrCtDmb9e2oDisrs9EGMpx0LgWVICKP9gDJ1MqsW";

    assertThat(PasswordSchemes.verify(hash, Secret.of("a".repeat(80)))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of("a".repeat(72) + "different"))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of("a".repeat(71)))).isFalse();
  }

  @Test
  void verifyShouldReadOnlyEightCharactersWhenDesCryptLikeDovecot() {
    assertThat(PasswordSchemes.verify("{DES-CRYPT}2ECBxgHGtFBgg", Secret.of("Tr0ub4doXXX"))).isTrue();
    assertThat(PasswordSchemes.verify("{DES-CRYPT}2ECBxgHGtFBgg", Secret.of("Tr0ub4d"))).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{sha512-crypt}$6$.AmPXYZShNu9riuG$387V7ZC.VqqGKZ9L8W3vsPg//UqrE3R6ryo0Ce7dVjOwkw8.cIQZlc14pu27LikB6MJre0iml2nzyfvjdkWQE/",
      "{Ssha}OvYKivf3VrKNeZeWL5YPVYi4LmgXLKs/",
      "{sha256.hex}48486e1514e842346ff405b1e45f44059ae82619f2306f99d0940dcb386e91f7",
      "{plain-md5.base64}Ts5XphMjtSzP/b7wIZVnVA==",
      "{plain}Tr0ub4dor&3"})
  void verifyShouldIgnoreCaseWhenSchemeNameDiffers(String hash) {
    assertThat(PasswordSchemes.problem(hash)).isEmpty();
    assertThat(PasswordSchemes.verify(hash, Secret.of(PASSWORD))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{SHA}874572e7a5ae6a49466a6ac578b98adba78c6aa6",
      "{PLAIN-MD5}Ts5XphMjtSzP/b7wIZVnVA==",
      "{LDAP-MD5}4ece57a61323b52ccffdbef021956754",
      "{MD5}4ece57a61323b52ccffdbef021956754",
      "{MD5}Ts5XphMjtSzP/b7wIZVnVA=="})
  void verifyShouldGuessHexOrBase64WhenDigestHasNoSuffix(String hash) {
    assertThat(PasswordSchemes.problem(hash)).isEmpty();
    assertThat(PasswordSchemes.verify(hash, Secret.of(PASSWORD))).isTrue();
    assertThat(PasswordSchemes.verify(hash, Secret.of(wrong(PASSWORD)))).isFalse();
  }

  @Test
  void verifyShouldNeverMatchWhenStoredFieldIsEmpty() {
    assertThat(PasswordSchemes.problem("")).isEmpty();
    assertThat(PasswordSchemes.verify("", Secret.of(PASSWORD))).isFalse();
    assertThat(PasswordSchemes.verify("", Secret.of(""))).isFalse();
    assertThat(PasswordSchemes.verify("{CRYPT}", Secret.of(PASSWORD))).isFalse();
  }

  @Test
  void verifyShouldRejectEmptyPasswordWhenPlainValueIsEmpty() {
    assertThat(PasswordSchemes.problem("{PLAIN}")).isEmpty();
    assertThat(PasswordSchemes.verify("{PLAIN}", Secret.of(""))).isFalse();
  }

  @Test
  void verifyShouldRejectPasswordWhenItContainsNul() {
    assertThat(PasswordSchemes.verify("{PLAIN}ab", Secret.of(new byte[] {'a', 'b', 0}))).isFalse();
    assertThat(PasswordSchemes.verify("{PLAIN}a\0b", Secret.of("a\0b"))).isFalse();
  }

  @Test
  void verifyShouldUseExactBytesWhenPasswordIsNotUtf8() {
    // Latin-1 "pässwörd" is not the UTF-8 one; raw bytes must reach the hash unchanged.
    byte[] latin1 = "p\u00e4ssw\u00f6rd".getBytes(StandardCharsets.ISO_8859_1);
    String stored = "{PLAIN.B64}" + Base64.getEncoder().encodeToString(latin1);

    assertThat(PasswordSchemes.verify(stored, Secret.of(latin1))).isTrue();
    assertThat(PasswordSchemes.verify(stored, Secret.of("p\u00e4ssw\u00f6rd"))).isFalse();
  }

  static Stream<Arguments> malformedHashes() {
    return Stream.of(
        arguments("{FOO}whatever-value", "unknown scheme {FOO}"),
        arguments("{SHA.ROT13}whatever-value", "unknown scheme {SHA.ROT13}"),
        arguments("{DIGEST-MD5}0123456789abcdef0123456789abcdef", "unknown scheme {DIGEST-MD5}"),
        arguments("{my secret pw}whatever-value", "malformed {SCHEME} prefix"),
        arguments("{SHA512-CRYPT}$6$saltsalt$tooshort-value", "malformed SHA512-CRYPT hash"),
        arguments("{SHA512-CRYPT}$1$n7t7Ilv9$LZ3AD3HKkLDoXbfChGGSq1",
            "SHA512-CRYPT hash is in a different crypt format"),
        arguments("{SHA256-CRYPT}", "malformed SHA256-CRYPT hash"),
        arguments("{SHA256-CRYPT}$5$rounds=999$iJmyIb6MSgx0Oh0A$vMXfceZF8bkRbCR7xQ7zr.WofY6LbGEN5nxLDQC2C7C",
            "malformed SHA256-CRYPT hash"),
        arguments("{MD5-CRYPT}$1$waytoolongsalt$LZ3AD3HKkLDoXbfChGGSq1", "malformed MD5-CRYPT hash"),
        arguments("{BLF-CRYPT}$2y$03$hzRaW7dPrzdfBctxjs85EOmPzkGyjs1GC/DMffXwkVkZP3Wkk2NgK",
            "malformed BLF-CRYPT hash"),
        arguments("{BLF-CRYPT}$2x$05$hzRaW7dPrzdfBctxjs85EOmPzkGyjs1GC/DMffXwkVkZP3Wkk2NgK",
            "malformed BLF-CRYPT hash"),
        arguments("{DES-CRYPT}2ECBxgHGtFBg", "malformed DES-CRYPT hash"),
        arguments("$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
            "malformed or unsupported CRYPT hash"),
        arguments("!$6$locked-account-value", "malformed or unsupported CRYPT hash"),
        arguments("{SSHA}not*base64*value", "SSHA hash is not valid base64"),
        arguments("{SSHA}h0Vy56WuaklGamrFeLmK26eMaqY=", "SSHA hash is too short to hold a salt"),
        arguments("{SHA256}h0Vy56WuaklGamrFeLmK26eMaqY=", "SHA256 hash has the wrong length"),
        arguments("{SHA256}not*base64*value", "SHA256 hash is not valid hex or base64"),
        arguments("{SHA256.HEX}zz-not-hex-value", "SHA256 hash is not valid hex"),
        arguments("{PLAIN-MD5}4ece57a61323b52ccffdbef0219567", "PLAIN-MD5 hash has the wrong length"),
        arguments("{MD5}not*a*digest*value", "malformed MD5 hash"),
        arguments("{ARGON2ID}$argon2id$v=16$m=65536,t=3,p=1$b0FnWQEyOAlqZiipb01qjg$sW471kQxsm2X/DyJ1cYUSAxEdijaHgLHH5LbbfVsgLY",
            "ARGON2ID hash has an unsupported Argon2 version"),
        arguments("{ARGON2ID}$argon2i$v=19$m=32768,t=4,p=1$x3hy/fle/oaMUWoLTaxIKQ$K//5Z78PDDgOATkJsbh5xPBgdZdfURbQxJ8kx3UzKVk",
            "ARGON2ID hash is an argon2i hash"),
        arguments("{ARGON2ID}$argon2id$v=19$m=4194304,t=3,p=1$b0FnWQEyOAlqZiipb01qjg$sW471kQxsm2X/DyJ1cYUSAxEdijaHgLHH5LbbfVsgLY",
            "ARGON2ID hash asks for memory outside 8 KiB per lane to 1 GiB"),
        arguments("{ARGON2I}$argon2i$v=19$m=32768,t=0,p=1$x3hy/fle/oaMUWoLTaxIKQ$K//5Z78PDDgOATkJsbh5xPBgdZdfURbQxJ8kx3UzKVk",
            "ARGON2I hash has invalid cost parameters"),
        arguments("{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$x3hy/fle/oaMUWoLTaxIKQ", "malformed ARGON2I hash"),
        arguments("{PBKDF2}$1$MGoYwsAkbZeFX5rx$0$6085a4c255bbb0634f4c1cd7d0cb61ca8149520e",
            "PBKDF2 hash has an invalid round count"),
        arguments("{PBKDF2}$1$MGoYwsAkbZeFX5rx$5000$6085a4c255bbb0634f4c", "malformed PBKDF2 hash"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("malformedHashes")
  void problemShouldExplainWhenHashIsMalformed(String stored, String expected) {
    assertThat(PasswordSchemes.problem(stored)).contains(expected);
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("malformedHashes")
  void problemShouldNeverQuoteTheHashWhenMalformed(String stored, String expected) {
    String value = stored.substring(stored.indexOf('}') + 1);
    String problem = PasswordSchemes.problem(stored).orElseThrow();
    if (!value.isEmpty()) {
      assertThat(problem).doesNotContain(value);
    }
    if (stored.startsWith("{my secret")) {
      assertThat(problem).doesNotContain("secret");
    }
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("malformedHashes")
  void verifyShouldReturnFalseWhenHashIsMalformed(String stored, String expected) {
    assertThat(PasswordSchemes.verify(stored, Secret.of(PASSWORD))).isFalse();
  }
}
