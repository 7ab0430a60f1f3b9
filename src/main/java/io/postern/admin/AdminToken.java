package io.postern.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API's bearer token, from {@code admin.token-file}. The file is read again for every
 * call that presents a token (on a worker, never the event loop): a rotated token works at once,
 * without a restart or a reload, and a removed file refuses every call. The token itself is never
 * logged; it is compared through its SHA-256 digest, in constant time.
 */
public final class AdminToken {

  private static final Logger LOG = LoggerFactory.getLogger("postern.admin");
  /** A token is a line of random text; anything larger is not a token file. */
  static final int MAX_BYTES = 4096;

  /** The file cannot serve as a token: missing, unreadable, empty or too large. */
  public static final class TokenFileProblem extends Exception {
    TokenFileProblem(String message) {
      super(message);
    }
  }

  private final Vertx vertx;
  private final Supplier<Path> file;
  /** The digest of the token last read, to warn about permissions once per token. */
  private volatile byte[] lastDigest;

  /** {@code file} is asked at every call: a reload may set, change or remove it. */
  public AdminToken(Vertx vertx, Supplier<Path> file) {
    this.vertx = vertx;
    this.file = file;
  }

  /** Whether {@code admin.token-file} is set now: without it, changing calls are refused. */
  public boolean configured() {
    return file.get() != null;
  }

  /**
   * Checks {@code file} as Postern starts (blocking): a problem to report under
   * {@code admin.token-file}, or empty. Warns when others than the owner may read it.
   */
  public static Optional<String> check(Path file) {
    try {
      read(file);
      warnIfReadable(file);
      return Optional.empty();
    } catch (TokenFileProblem e) {
      return Optional.of(e.getMessage());
    }
  }

  /**
   * Whether {@code presented} is the token in the file now. Fails with {@link TokenFileProblem}
   * when the file cannot serve as a token (every call is refused until it is fixed).
   */
  public Future<Boolean> matches(String presented) {
    byte[] given = digest(presented.getBytes(StandardCharsets.UTF_8));
    Path file = this.file.get();
    if (file == null) {
      return Future.succeededFuture(false);
    }
    return vertx.executeBlocking(() -> {
      byte[] token = digest(read(file));
      if (lastDigest != null && !MessageDigest.isEqual(lastDigest, token)) {
        LOG.info("admin: token in {} changed", file);
        warnIfReadable(file);
      }
      lastDigest = token;
      return MessageDigest.isEqual(given, token);
    }, false);
  }

  /** The token: the file's text without surrounding white space (the trailing newline). */
  static byte[] read(Path file) throws TokenFileProblem {
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (IOException e) {
      throw new TokenFileProblem("cannot read " + file + ": " + e.getMessage());
    }
    if (bytes.length > MAX_BYTES) {
      throw new TokenFileProblem(file + " is larger than " + MAX_BYTES + " bytes: not a token");
    }
    String token = new String(bytes, StandardCharsets.UTF_8).strip();
    if (token.isEmpty()) {
      // An empty token would let anyone who sends "Bearer " in.
      throw new TokenFileProblem(file + " is empty; put a random token in it, e.g."
          + " openssl rand -hex 32 > " + file);
    }
    return token.getBytes(StandardCharsets.UTF_8);
  }

  private static void warnIfReadable(Path file) {
    try {
      PosixFileAttributeView view = Files.getFileAttributeView(file,
          PosixFileAttributeView.class);
      if (view == null) {
        return;
      }
      Set<PosixFilePermission> perms = view.readAttributes().permissions();
      if (perms.contains(PosixFilePermission.GROUP_READ)
          || perms.contains(PosixFilePermission.OTHERS_READ)) {
        LOG.warn("admin: token file {} is readable by its group or others; chmod 600 it",
            file);
      }
    } catch (IOException e) {
      // It was just read: the permissions are a warning only.
    }
  }

  private static byte[] digest(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
      Arrays.fill(bytes, (byte) 0);
      return d;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JVM", e);
    }
  }
}
