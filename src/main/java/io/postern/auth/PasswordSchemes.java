package io.postern.auth;

import io.postern.credentials.Secret;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Verifies passwords against Dovecot-style stored values: {@code {SCHEME}value}, or a bare value,
 * which Dovecot's passwd-file reads as CRYPT. Scheme names are case-insensitive and may carry a
 * {@code .HEX}, {@code .B64} or {@code .BASE64} suffix that overrides how the value is encoded.
 *
 * <p>An empty stored value is valid and matches nothing: the account exists but cannot log in.
 * An empty password never matches, whatever is stored.
 */
public final class PasswordSchemes {

  private static final Map<String, HashScheme> SCHEMES =
      Stream.of(
              new PlainScheme("PLAIN"),
              new PlainScheme("CLEAR"),
              new PlainScheme("CLEARTEXT"),
              new CryptScheme("CRYPT", null),
              new CryptScheme("MD5-CRYPT", CryptScheme.Format.MD5),
              new CryptScheme("SHA256-CRYPT", CryptScheme.Format.SHA256),
              new CryptScheme("SHA512-CRYPT", CryptScheme.Format.SHA512),
              new CryptScheme("BLF-CRYPT", CryptScheme.Format.BLOWFISH),
              new CryptScheme("DES-CRYPT", CryptScheme.Format.DES),
              new Md5AliasScheme(),
              new DigestScheme("SHA", "SHA-1", HashEncoding.BASE64),
              new DigestScheme("SHA1", "SHA-1", HashEncoding.BASE64),
              new DigestScheme("SHA256", "SHA-256", HashEncoding.BASE64),
              new DigestScheme("SHA512", "SHA-512", HashEncoding.BASE64),
              new DigestScheme("PLAIN-MD5", "MD5", HashEncoding.HEX),
              new DigestScheme("LDAP-MD5", "MD5", HashEncoding.BASE64),
              new SaltedDigestScheme("SMD5", "MD5"),
              new SaltedDigestScheme("SSHA", "SHA-1"),
              new SaltedDigestScheme("SSHA256", "SHA-256"),
              new SaltedDigestScheme("SSHA512", "SHA-512"),
              new Argon2Scheme("ARGON2I", "argon2i", Argon2Parameters.ARGON2_i),
              new Argon2Scheme("ARGON2ID", "argon2id", Argon2Parameters.ARGON2_id),
              new Pbkdf2Scheme())
          .collect(Collectors.toUnmodifiableMap(HashScheme::name, Function.identity()));

  /**
   * What may stand between the braces. Anything else is not echoed in a problem message, in case
   * a mistyped line put part of a password there.
   */
  private static final Pattern SCHEME_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}");

  private PasswordSchemes() {}

  /**
   * Whether {@code password} matches {@code storedPassword}. Blocking: bcrypt and Argon2 take
   * 10–500 ms, so call it on a worker thread. Digests are compared in constant time. A stored
   * value with a {@link #problem} never matches.
   */
  public static boolean verify(String storedPassword, Secret password) {
    Objects.requireNonNull(storedPassword, "storedPassword");
    Objects.requireNonNull(password, "password");
    Decoded decoded = decode(storedPassword);
    if (decoded.problem() != null || decoded.scheme() == null) {
      return false;
    }
    byte[] bytes = password.bytes();
    try {
      // Dovecot handles passwords as C strings, so no password it accepts contains a NUL.
      if (bytes.length == 0 || contains(bytes, (byte) 0)) {
        return false;
      }
      return decoded.scheme().matches(decoded.raw(), bytes);
    } catch (IllegalArgumentException e) {
      // problem() already refuses what the libraries reject; this keeps a library message,
      // which may quote the salt, from ever reaching a caller's log.
      return false;
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /**
   * Empty if {@code storedPassword} is usable; otherwise a short reason such as "unknown scheme
   * {FOO}" or "malformed SHA512-CRYPT hash". The reason never contains the stored value.
   */
  public static Optional<String> problem(String storedPassword) {
    Objects.requireNonNull(storedPassword, "storedPassword");
    return Optional.ofNullable(decode(storedPassword).problem());
  }

  /**
   * What checking a password against {@code storedPassword} costs ({@link HashCost#NONE} for
   * an empty or unusable value, which is never checked).
   */
  public static HashCost cost(String storedPassword) {
    Objects.requireNonNull(storedPassword, "storedPassword");
    Decoded decoded = decode(storedPassword);
    return decoded.problem() != null || decoded.scheme() == null ? HashCost.NONE
        : decoded.scheme().cost(decoded.raw());
  }

  /** A parsed stored value: the scheme and decoded bytes, or a problem, or neither when empty. */
  private record Decoded(HashScheme scheme, byte[] raw, String problem) {
    static Decoded problem(String reason) {
      return new Decoded(null, null, reason);
    }
  }

  private static Decoded decode(String stored) {
    if (stored.isEmpty()) {
      return new Decoded(null, null, null);
    }
    String name = "CRYPT";
    String value = stored;
    int close = stored.indexOf('}');
    // Like Dovecot, a '{' without a closing '}' is no prefix: the whole field is then a CRYPT hash.
    if (stored.charAt(0) == '{' && close > 0) {
      name = stored.substring(1, close);
      value = stored.substring(close + 1);
    }
    if (!SCHEME_NAME.matcher(name).matches()) {
      return Decoded.problem("malformed {SCHEME} prefix");
    }
    String upper = name.toUpperCase(Locale.ROOT);
    int dot = upper.indexOf('.');
    HashScheme scheme = SCHEMES.get(dot < 0 ? upper : upper.substring(0, dot));
    HashEncoding encoding = dot < 0 ? null : HashEncoding.bySuffix(upper.substring(dot + 1));
    if (scheme == null || (dot >= 0 && encoding == null)) {
      return Decoded.problem("unknown scheme {" + name + "}");
    }
    HashEncoding effective = encoding == null ? scheme.defaultEncoding() : encoding;
    // Dovecot guesses hex or base64 only for fixed-length digests written without a suffix.
    boolean guess = encoding == null && effective != HashEncoding.NONE && scheme.rawLength() > 0;
    byte[] raw = guess
        ? HashEncoding.decodeGuessing(value, scheme.rawLength())
        : effective.decode(value);
    if (raw == null) {
      return Decoded.problem(scheme.name() + " hash is not valid "
          + (guess ? "hex or base64" : effective.label()));
    }
    String problem = scheme.problem(raw);
    return problem == null ? new Decoded(scheme, raw, null) : Decoded.problem(problem);
  }

  private static boolean contains(byte[] bytes, byte wanted) {
    for (byte b : bytes) {
      if (b == wanted) {
        return true;
      }
    }
    return false;
  }
}
