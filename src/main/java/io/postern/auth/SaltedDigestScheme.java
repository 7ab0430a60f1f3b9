package io.postern.auth;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * SMD5, SSHA, SSHA256 and SSHA512: Dovecot stores {@code digest(password + salt) + salt}, base64
 * by default. The salt is whatever follows the digest, so its length is free but not zero.
 */
final class SaltedDigestScheme implements HashScheme {

  private final String name;
  private final String algorithm;
  private final int length;

  SaltedDigestScheme(String name, String algorithm) {
    this.name = name;
    this.algorithm = algorithm;
    this.length = DigestScheme.newDigest(algorithm).getDigestLength();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public HashEncoding defaultEncoding() {
    return HashEncoding.BASE64;
  }

  @Override
  public String problem(byte[] stored) {
    return stored.length > length ? null : name + " hash is too short to hold a salt";
  }

  @Override
  public boolean matches(byte[] stored, byte[] password) {
    MessageDigest digest = DigestScheme.newDigest(algorithm);
    digest.update(password);
    digest.update(stored, length, stored.length - length);
    return MessageDigest.isEqual(digest.digest(), Arrays.copyOf(stored, length));
  }
}
