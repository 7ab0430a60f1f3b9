package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Pattern;
import org.apache.commons.codec.digest.Md5Crypt;
import org.apache.commons.codec.digest.Sha2Crypt;
import org.apache.commons.codec.digest.UnixCrypt;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * The crypt(3) family. CRYPT accepts every format below, as glibc's crypt() does for Dovecot;
 * the named schemes (MD5-CRYPT, SHA512-CRYPT, …) accept only their own format, so a mislabelled
 * hash is reported when the file is loaded instead of silently verifying as something else.
 */
final class CryptScheme implements HashScheme {

  /** A crypt(3) hash format, recognised by its shape. */
  enum Format {
    MD5("\\$1\\$[./0-9A-Za-z]{1,8}\\$[./0-9A-Za-z]{22}"),
    SHA256("\\$5\\$(rounds=[0-9]{1,9}\\$)?[./0-9A-Za-z]{1,16}\\$[./0-9A-Za-z]{43}"),
    SHA512("\\$6\\$(rounds=[0-9]{1,9}\\$)?[./0-9A-Za-z]{1,16}\\$[./0-9A-Za-z]{86}"),
    BLOWFISH("\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./0-9A-Za-z]{53}"),
    DES("[./0-9A-Za-z]{13}");

    private final Pattern shape;

    Format(String regex) {
      this.shape = Pattern.compile(regex);
    }

    static Format of(String hash) {
      for (Format format : values()) {
        if (format.shape.matcher(hash).matches()) {
          return format;
        }
      }
      return null;
    }
  }

  // bcrypt's base64 alphabet lined up with the standard one, so the JDK decoder can read its salt.
  private static final String BCRYPT_ALPHABET =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final String STANDARD_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  private final String name;
  /** The only format this scheme accepts, or null for CRYPT, which takes any. */
  private final Format only;

  CryptScheme(String name, Format only) {
    this.name = name;
    this.only = only;
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
    if (stored.length == 0 && only == null) {
      // Dovecot's crypt_verify treats an empty CRYPT value as "never matches", not as an error.
      return null;
    }
    Format format = Format.of(text(stored));
    if (format == null) {
      return only == null ? "malformed or unsupported CRYPT hash" : "malformed " + name + " hash";
    }
    if (only != null && format != only) {
      return name + " hash is in a different crypt format";
    }
    if ((format == Format.SHA256 || format == Format.SHA512) && !roundsInRange(text(stored))) {
      // glibc writes the clamped count, so a stored count outside its range can never match.
      return "malformed " + name + " hash";
    }
    return null;
  }

  private static boolean roundsInRange(String hash) {
    if (!hash.startsWith("rounds=", 3)) {
      return true;
    }
    int rounds = Integer.parseInt(hash.substring(10, hash.indexOf('$', 10)));
    return rounds >= 1000 && rounds <= 999_999_999;
  }

  /** The format and its work factor: rounds for SHA-crypt (5000 when unsaid), cost for bcrypt. */
  @Override
  public HashCost cost(byte[] stored) {
    String hash = text(stored);
    Format format = Format.of(hash);
    if (format == null) {
      return new HashCost(name, 0);
    }
    String label = name + (only == null ? " " + format.name() : "");
    return new HashCost(switch (format) {
      case SHA256, SHA512 -> label + " rounds=" + (hash.startsWith("rounds=", 3)
          ? hash.substring(10, hash.indexOf('$', 10)) : "5000");
      case BLOWFISH -> label + " cost=" + hash.substring(4, 6);
      default -> label;
    }, 0);
  }

  @Override
  public boolean matches(byte[] stored, byte[] password) {
    String hash = text(stored);
    Format format = Format.of(hash);
    if (format == null) {
      return false;
    }
    String computed;
    switch (format) {
      case MD5:
        computed = Md5Crypt.md5Crypt(password, hash);
        break;
      case SHA256:
        computed = Sha2Crypt.sha256Crypt(password, hash);
        break;
      case SHA512:
        computed = Sha2Crypt.sha512Crypt(password, hash);
        break;
      case DES:
        computed = UnixCrypt.crypt(password, hash.substring(0, 2));
        break;
      case BLOWFISH:
        computed = bcrypt(hash, password);
        break;
      default:
        throw new AssertionError(format);
    }
    return MessageDigest.isEqual(
        computed.getBytes(StandardCharsets.ISO_8859_1), stored);
  }

  /** Recomputes a "$2?$NN$<salt><hash>" string for the password with the stored version, cost and salt. */
  private static String bcrypt(String hash, byte[] password) {
    String version = hash.substring(1, 3);
    int cost = Integer.parseInt(hash.substring(4, 6));
    StringBuilder salt = new StringBuilder(22);
    for (int i = 7; i < 7 + 22; i++) {
      salt.append(STANDARD_ALPHABET.charAt(BCRYPT_ALPHABET.indexOf(hash.charAt(i))));
    }
    // 22 characters carry 132 bits; the JDK decoder drops the 4 spare bits, leaving the 16-byte salt.
    byte[] saltBytes = Base64.getDecoder().decode(salt.toString());
    // BouncyCastle appends the NUL and cuts at 72 bytes like OpenBSD and crypt_blowfish do.
    return OpenBSDBCrypt.generate(version, password.clone(), saltBytes, cost);
  }

  /** Crypt hashes are ASCII; ISO-8859-1 maps each stored byte to one char, so nothing is lost. */
  private static String text(byte[] stored) {
    return new String(stored, StandardCharsets.ISO_8859_1);
  }
}
