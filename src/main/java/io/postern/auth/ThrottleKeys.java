package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The names of what Postern keeps in a shared Redis: the failure counts
 * {@code postern:throttle:address:<hash>} and {@code postern:throttle:user:<hash>}, and the open
 * connections per address {@code postern:connections:address:<hash>}, where the hash is the
 * SHA-256 of the key (an address or IPv6 /64, a lower-case name) under a label of its kind. A
 * {@code SCAN} of the store lists no user name and no address in clear, and every instance,
 * whatever its version, derives the same name for the same client.
 */
public final class ThrottleKeys {

  /** Every failure count starts with this. */
  public static final String PREFIX = "postern:throttle:";
  /** Every connection count, and each instance's heartbeat, starts with this. */
  public static final String CONNECTIONS = "postern:connections:";

  private ThrottleKeys() {}

  /** The key of {@code addressKey} ({@link LoginThrottle#addressKey}). */
  public static String address(String addressKey) {
    return PREFIX + "address:" + hash("address", addressKey);
  }

  /** The key of {@code userKey} ({@link LoginThrottle#userKey}). */
  public static String user(String userKey) {
    return PREFIX + "user:" + hash("user", userKey);
  }

  /** The connections from {@code addressKey} (an address, or an IPv6 /64) on every instance. */
  public static String connections(String addressKey) {
    return CONNECTIONS + "address:" + hash("connections", addressKey);
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
