package io.postern.tls;

import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.postern.tls.CertificatePair.CertificateProblem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The session ticket keys of {@code tls.session-ticket-keys}, read from files that several
 * instances share (nginx's {@code ssl_session_ticket_key}): the first key encrypts new tickets,
 * every key decrypts, so a rotation puts the new file first and keeps the old one second until
 * the tickets it issued have expired. Each file holds 48 random bytes ({@code openssl rand 48}),
 * laid out as nginx reads a 48-byte file: 16 bytes of key name, 16 of AES-128 key, 16 of
 * HMAC-SHA256 key. The bytes never reach a log or {@link #toString}.
 */
public final class SessionTicketKeys {

  /** The length of one key file. */
  public static final int FILE_SIZE = 48;
  /** nginx's other format (AES-256 and a 32-byte HMAC key), which BoringSSL's callback lacks. */
  static final int NGINX_AES256_SIZE = 80;

  private static final SessionTicketKeys NONE =
      new SessionTicketKeys(List.of(), List.of(), FileContents.of(Map.of()));

  private final List<Path> files;
  private final List<byte[]> keys;
  /** What every configured file held when these keys were made, usable or not: watched. */
  private final FileContents source;

  private SessionTicketKeys(List<Path> files, List<byte[]> keys, FileContents source) {
    this.files = List.copyOf(files);
    this.keys = keys.stream().map(byte[]::clone).toList();
    this.source = source;
  }

  /** No files: the engine's own random key, per process. */
  public static SessionTicketKeys none() {
    return NONE;
  }

  /** One key that no file holds, for this process alone. */
  static SessionTicketKeys random() {
    byte[] key = new byte[FILE_SIZE];
    new java.security.SecureRandom().nextBytes(key);
    return new SessionTicketKeys(List.of(Path.of("(random)")), List.of(key),
        FileContents.of(Map.of()));
  }

  /** Reads every file (blocking: start-up or a worker thread). */
  public static SessionTicketKeys read(List<Path> files) throws CertificateProblem {
    return parse(FileContents.read(files));
  }

  /** The keys in {@code contents}, in the order of its files; a problem names the file. */
  public static SessionTicketKeys parse(FileContents contents) throws CertificateProblem {
    List<Path> files = new ArrayList<>(contents.files());
    List<byte[]> keys = new ArrayList<>();
    for (Path file : files) {
      keys.add(check(file, contents.bytes(file)));
    }
    return new SessionTicketKeys(files, keys, contents);
  }

  /**
   * At a reload: the keys of the files that hold one. A file that is gone, unreadable or not 48
   * bytes loses its key (its problem goes to {@code dropped}) instead of keeping the old bytes:
   * emptying or deleting a file is how an operator retires a leaked key, and a refused reload
   * would leave that key decrypting; losing resumption costs one full handshake.
   */
  public static SessionTicketKeys usable(FileContents contents, List<String> dropped) {
    List<Path> files = new ArrayList<>();
    List<byte[]> keys = new ArrayList<>();
    for (Path file : contents.files()) {
      try {
        keys.add(check(file, contents.bytes(file)));
        files.add(file);
      } catch (CertificateProblem e) {
        dropped.add(e.getMessage());
      }
    }
    return new SessionTicketKeys(files, keys, contents);
  }

  private static byte[] check(Path file, byte[] bytes) throws CertificateProblem {
    if (bytes.length == FILE_SIZE) {
      return bytes;
    }
    if (bytes.length == NGINX_AES256_SIZE) {
      throw new CertificateProblem("session ticket key file " + file + " holds 80 bytes (nginx's"
          + " AES-256 format); Postern's engine takes 48-byte keys: openssl rand 48 > " + file);
    }
    throw new CertificateProblem("session ticket key file " + file + " holds " + bytes.length
        + " bytes, not 48; write one with: openssl rand 48 > " + file);
  }

  public List<Path> files() {
    return files;
  }

  public boolean isEmpty() {
    return keys.isEmpty();
  }

  /**
   * What the configured files held, for comparing with what they hold now: a dropped file is
   * looked at too, so that mending it brings its key back.
   */
  FileContents source() {
    return source;
  }

  /** The keys as Netty's OpenSSL session context takes them: the first encrypts. */
  OpenSslSessionTicketKey[] forOpenSsl() {
    OpenSslSessionTicketKey[] out = new OpenSslSessionTicketKey[keys.size()];
    for (int i = 0; i < keys.size(); i++) {
      byte[] k = keys.get(i);
      out[i] = new OpenSslSessionTicketKey(Arrays.copyOfRange(k, 0, 16),
          Arrays.copyOfRange(k, 32, 48), Arrays.copyOfRange(k, 16, 32));
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof SessionTicketKeys other) || !files.equals(other.files)) {
      return false;
    }
    for (int i = 0; i < keys.size(); i++) {
      if (!Arrays.equals(keys.get(i), other.keys.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return files.hashCode();
  }

  @Override
  public String toString() {
    return "session ticket keys " + files; // the files, never the bytes
  }
}
