package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.codec.DecoderException;
import org.apache.commons.codec.binary.Hex;
import org.bouncycastle.crypto.digests.SHA1Digest;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Dovecot's PBKDF2 (password-scheme-pbkdf2.c): {@code $1$<salt>$<rounds>$<40 hex digits>}, that
 * is PBKDF2-HMAC-SHA1 with a 160-bit key, the salt used as the literal bytes of its text.
 */
final class Pbkdf2Scheme implements HashScheme {

  private static final Pattern FORMAT =
      Pattern.compile("\\$1\\$([^$]*)\\$([0-9]{1,10})\\$([0-9A-Fa-f]{40})");

  @Override
  public String name() {
    return "PBKDF2";
  }

  @Override
  public HashEncoding defaultEncoding() {
    return HashEncoding.NONE;
  }

  @Override
  public String problem(byte[] stored) {
    Matcher m = FORMAT.matcher(new String(stored, StandardCharsets.ISO_8859_1));
    if (!m.matches()) {
      return "malformed PBKDF2 hash";
    }
    long rounds = Long.parseLong(m.group(2));
    if (rounds < 1 || rounds > Integer.MAX_VALUE) {
      return "PBKDF2 hash has an invalid round count";
    }
    return null;
  }

  @Override
  public HashCost cost(byte[] stored) {
    Matcher m = FORMAT.matcher(new String(stored, StandardCharsets.ISO_8859_1));
    return new HashCost(m.matches() ? "PBKDF2 rounds=" + m.group(2) : "PBKDF2", 0);
  }

  @Override
  public boolean matches(byte[] stored, byte[] password) {
    Matcher m = FORMAT.matcher(new String(stored, StandardCharsets.ISO_8859_1));
    if (!m.matches()) {
      return false;
    }
    byte[] expected;
    try {
      expected = Hex.decodeHex(m.group(3));
    } catch (DecoderException e) {
      return false;
    }
    // BouncyCastle takes the password as bytes; the JDK's PBKDF2 would re-encode chars.
    PKCS5S2ParametersGenerator generator = new PKCS5S2ParametersGenerator(new SHA1Digest());
    generator.init(
        password,
        m.group(1).getBytes(StandardCharsets.ISO_8859_1),
        Integer.parseInt(m.group(2)));
    byte[] computed = ((KeyParameter) generator.generateDerivedParameters(160)).getKey();
    return MessageDigest.isEqual(computed, expected);
  }
}
