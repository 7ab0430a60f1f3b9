package io.postern.auth;

/**
 * What checking a password against one stored hash costs: {@code label} names the scheme and its
 * cost parameters (e.g. {@code ARGON2ID m=65536,t=3,p=1}, never salt or hash), so that hashes of
 * one cost can be grouped; {@code memoryBytes} is the memory one check takes beyond a few KiB.
 */
public record HashCost(String label, long memoryBytes) {

  public static final HashCost NONE = new HashCost("none", 0);
}
