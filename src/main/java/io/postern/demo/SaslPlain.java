package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * A decoded SASL PLAIN response (RFC 4616): {@code authzid NUL authcid NUL password}.
 *
 * @param authzid the identity to act as, empty for "same as authcid"
 * @param authcid the user name
 * @param password raw bytes; {@link #toString()} never shows them
 */
record SaslPlain(String authzid, String authcid, byte[] password) {

  SaslPlain {
    password = password.clone();
  }

  @Override
  public byte[] password() {
    return password.clone();
  }

  /**
   * Decodes a base64 client response; {@code "="} is the empty response of SASL-IR. Empty when the
   * text is not base64 or not three NUL-separated fields.
   */
  static Optional<SaslPlain> decode(String base64) {
    byte[] raw;
    try {
      raw = base64.equals("=") ? new byte[0] : Base64.getDecoder().decode(base64.strip());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    int first = indexOfNul(raw, 0);
    int second = first < 0 ? -1 : indexOfNul(raw, first + 1);
    if (second < 0 || indexOfNul(raw, second + 1) >= 0) {
      return Optional.empty();
    }
    return Optional.of(
        new SaslPlain(
            new String(raw, 0, first, StandardCharsets.UTF_8),
            new String(raw, first + 1, second - first - 1, StandardCharsets.UTF_8),
            Arrays.copyOfRange(raw, second + 1, raw.length)));
  }

  /** True when the demo account is named and the client does not ask to act as someone else. */
  boolean authenticates() {
    return (authzid.isEmpty() || authzid.equals(authcid)) && DemoAccount.matches(authcid, password);
  }

  private static int indexOfNul(byte[] raw, int from) {
    for (int i = from; i < raw.length; i++) {
      if (raw[i] == 0) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SaslPlain s
        && s.authzid.equals(authzid)
        && s.authcid.equals(authcid)
        && Arrays.equals(s.password, password);
  }

  @Override
  public int hashCode() {
    return authcid.hashCode();
  }

  @Override
  public String toString() {
    return "SaslPlain[authzid=" + authzid + ", authcid=" + authcid + ", password=****]";
  }
}
