package io.postern.auth;

import java.nio.charset.StandardCharsets;

/**
 * Dovecot's {@code MD5}: an MD5-crypt hash when the value starts with {@code $1$} (that is what
 * {@code doveadm pw -s MD5} writes), otherwise a plain MD5 digest in hex or base64.
 */
final class Md5AliasScheme implements HashScheme {

  private final HashScheme md5Crypt = new CryptScheme("MD5", CryptScheme.Format.MD5);
  private final HashScheme plainMd5 = new DigestScheme("MD5", "MD5", HashEncoding.HEX);

  @Override
  public String name() {
    return "MD5";
  }

  @Override
  public HashEncoding defaultEncoding() {
    return HashEncoding.NONE;
  }

  @Override
  public String problem(byte[] stored) {
    if (isMd5Crypt(stored)) {
      return md5Crypt.problem(stored);
    }
    byte[] digest = digest(stored);
    return digest == null ? "malformed MD5 hash" : plainMd5.problem(digest);
  }

  @Override
  public boolean matches(byte[] stored, byte[] password) {
    if (isMd5Crypt(stored)) {
      return md5Crypt.matches(stored, password);
    }
    byte[] digest = digest(stored);
    return digest != null && plainMd5.matches(digest, password);
  }

  private static boolean isMd5Crypt(byte[] stored) {
    return stored.length >= 3 && stored[0] == '$' && stored[1] == '1' && stored[2] == '$';
  }

  private byte[] digest(byte[] stored) {
    return HashEncoding.decodeGuessing(
        new String(stored, StandardCharsets.ISO_8859_1), plainMd5.rawLength());
  }
}
