package io.postern.auth;

import java.security.MessageDigest;

/** PLAIN, CLEAR and CLEARTEXT: the password itself. */
final class PlainScheme implements HashScheme {

  private final String name;

  PlainScheme(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public HashEncoding defaultEncoding() {
    return HashEncoding.NONE;
  }

  @Override
  public String problem(byte[] stored) {
    return null;
  }

  @Override
  public boolean matches(byte[] stored, byte[] password) {
    return MessageDigest.isEqual(stored, password);
  }
}
