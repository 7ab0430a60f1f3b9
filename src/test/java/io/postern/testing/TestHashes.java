package io.postern.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.commons.codec.digest.Crypt;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;

/** Stored passwords in Dovecot's schemes, made in the test, for passwd-file lines. */
public final class TestHashes {

  private TestHashes() {}

  public static String plain(String password) {
    return "{PLAIN}" + password;
  }

  /** SHA512-CRYPT with glibc's default 5000 rounds. */
  public static String sha512Crypt(String password) {
    return "{SHA512-CRYPT}" + Crypt.crypt(password.getBytes(StandardCharsets.UTF_8),
        "$6$timingsalt");
  }

  /** BLF-CRYPT ($2y$) with {@code cost} (Dovecot's default is 5; many sites use 10 and up). */
  public static String bcrypt(String password, int cost) {
    return "{BLF-CRYPT}" + OpenBSDBCrypt.generate("2y",
        password.getBytes(StandardCharsets.UTF_8), "0123456789abcdef".getBytes(
            StandardCharsets.US_ASCII), cost);
  }

  /** ARGON2ID in the PHC form libsodium writes: {@code memoryKib} KiB, {@code iterations}. */
  public static String argon2id(String password, int memoryKib, int iterations) {
    byte[] salt = "postern-salt-16b".getBytes(StandardCharsets.US_ASCII);
    Argon2BytesGenerator generator = new Argon2BytesGenerator();
    generator.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
        .withVersion(Argon2Parameters.ARGON2_VERSION_13)
        .withMemoryAsKB(memoryKib).withIterations(iterations).withParallelism(1)
        .withSalt(salt).build());
    byte[] hash = new byte[32];
    generator.generateBytes(password.getBytes(StandardCharsets.UTF_8), hash);
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return "{ARGON2ID}$argon2id$v=19$m=" + memoryKib + ",t=" + iterations + ",p=1$"
        + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
  }

  /** A passwd-file line for {@code user} with {@code stored} as its password field. */
  public static String line(String user, String stored) {
    return user + ":" + stored + "::::::";
  }
}
