package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * ARGON2I and ARGON2ID in the PHC string form libsodium writes for Dovecot:
 * {@code $argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>}, salt and hash in unpadded base64.
 */
final class Argon2Scheme implements HashScheme {

  private static final Pattern PHC =
      Pattern.compile(
          "\\$(argon2id|argon2i)\\$v=([0-9]{1,3})\\$m=([0-9]{1,10}),t=([0-9]{1,10}),p=([0-9]{1,8})"
              + "\\$([A-Za-z0-9+/]{11,})\\$([A-Za-z0-9+/]{22,})");

  /**
   * The memory cost libsodium calls "sensitive" (1 GiB), the most Dovecot ever writes. Above it
   * a single verification could exhaust the heap, so such a hash is refused when loaded.
   */
  static final long MAX_MEMORY_KIB = 1024L * 1024;

  private static final int MAX_PARALLELISM = 0xFFFFFF;

  private final String name;
  private final String type;
  private final int bcType;

  Argon2Scheme(String name, String type, int bcType) {
    this.name = name;
    this.type = type;
    this.bcType = bcType;
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
    Matcher m = PHC.matcher(new String(stored, StandardCharsets.ISO_8859_1));
    if (!m.matches()) {
      return "malformed " + name + " hash";
    }
    if (!m.group(1).equals(type)) {
      return name + " hash is an " + m.group(1) + " hash";
    }
    if (!m.group(2).equals("19")) {
      return name + " hash has an unsupported Argon2 version";
    }
    long memory = Long.parseLong(m.group(3));
    long iterations = Long.parseLong(m.group(4));
    long lanes = Long.parseLong(m.group(5));
    if (lanes < 1 || lanes > MAX_PARALLELISM || iterations < 1 || iterations > Integer.MAX_VALUE) {
      return name + " hash has invalid cost parameters";
    }
    if (memory < 8 * lanes || memory > MAX_MEMORY_KIB) {
      return name + " hash asks for memory outside 8 KiB per lane to 1 GiB";
    }
    // The groups match the base64 alphabet already; only a bad final character can still fail.
    byte[] salt = decode(m.group(6));
    byte[] hash = decode(m.group(7));
    if (salt == null || hash == null || salt.length < 8 || hash.length < 16) {
      return "malformed " + name + " hash";
    }
    return null;
  }

  /** Argon2 fills {@code m} KiB, all of it held at once. */
  @Override
  public HashCost cost(byte[] stored) {
    Matcher m = PHC.matcher(new String(stored, StandardCharsets.ISO_8859_1));
    if (!m.matches()) {
      return new HashCost(name, 0);
    }
    return new HashCost(name + " m=" + m.group(3) + ",t=" + m.group(4) + ",p=" + m.group(5),
        Long.parseLong(m.group(3)) * 1024);
  }

  @Override
  public boolean matches(byte[] stored, byte[] password) {
    Matcher m = PHC.matcher(new String(stored, StandardCharsets.ISO_8859_1));
    if (!m.matches()) {
      return false;
    }
    byte[] hash = decode(m.group(7));
    Argon2Parameters parameters =
        new Argon2Parameters.Builder(bcType)
            .withVersion(Argon2Parameters.ARGON2_VERSION_13)
            .withMemoryAsKB(Integer.parseInt(m.group(3)))
            .withIterations(Integer.parseInt(m.group(4)))
            .withParallelism(Integer.parseInt(m.group(5)))
            .withSalt(decode(m.group(6)))
            .build();
    Argon2BytesGenerator generator = new Argon2BytesGenerator();
    generator.init(parameters);
    byte[] computed = new byte[hash.length];
    generator.generateBytes(password, computed);
    return MessageDigest.isEqual(computed, hash);
  }

  private static byte[] decode(String unpadded) {
    try {
      return Base64.getDecoder().decode(unpadded);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
