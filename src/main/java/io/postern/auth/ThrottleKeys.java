package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The names of the shared failure counts in Redis: {@code postern:throttle:address:<hash>} and
 * {@code postern:throttle:user:<hash>}, where the hash is the SHA-256 of the throttle's own key
 * (an address or IPv6 /64, a lower-case name) under a label of its kind. A {@code SCAN} of the
 * store lists no user name and no address in clear, and every instance, whatever its version,
 * derives the same name for the same client.
 */
public final class ThrottleKeys {

  /** Everything Postern keeps in a shared Redis starts with this. */
  public static final String PREFIX = "postern:throttle:";

  private ThrottleKeys() {}

  /** The key of {@code addressKey} ({@link LoginThrottle#addressKey}). */
  public static String address(String addressKey) {
    return PREFIX + "address:" + hash("address", addressKey);
  }

  /** The key of {@code userKey} ({@link LoginThrottle#userKey}). */
  public static String user(String userKey) {
    return PREFIX + "user:" + hash("user", userKey);
  }

  /** The label keeps an address and a user name that are the same text apart. */
  private static String hash(String label, String key) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(("postern-throttle-v1\0" + label + "\0").getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha.digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
