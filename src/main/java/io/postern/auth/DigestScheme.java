package io.postern.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Unsalted digests: SHA/SHA1, SHA256, SHA512, PLAIN-MD5 and LDAP-MD5. */
final class DigestScheme implements HashScheme {

  private final String name;
  private final String algorithm;
  private final int length;
  private final HashEncoding defaultEncoding;

  DigestScheme(String name, String algorithm, HashEncoding defaultEncoding) {
    this.name = name;
    this.algorithm = algorithm;
    this.length = newDigest(algorithm).getDigestLength();
    this.defaultEncoding = defaultEncoding;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public HashEncoding defaultEncoding() {
    return defaultEncoding;
  }

  @Override
  public int rawLength() {
    return length;
  }

  @Override
  public String problem(byte[] stored) {
    return stored.length == length ? null : name + " hash has the wrong length";
  }

  @Override
  public boolean matches(byte[] stored, byte[] password) {
    return MessageDigest.isEqual(newDigest(algorithm).digest(password), stored);
  }

  /** A fresh digest; the JDK always has MD5, SHA-1, SHA-256 and SHA-512. */
  static MessageDigest newDigest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("JDK lacks " + algorithm, e);
    }
  }
}
