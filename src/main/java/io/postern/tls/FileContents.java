package io.postern.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What some files held at one moment, read by path as any program opening them would: through
 * symbolic links (certbot's {@code live/} links, a Kubernetes Secret's {@code ..data} link), so
 * a swapped link, a renamed file and a rewrite all show up as different bytes. Two readings are
 * equal when every file has the same SHA-256 (or the same reason it could not be read); mtimes
 * are not looked at (a Secret's files keep theirs, a copy may keep its).
 */
public final class FileContents {

  private final Map<Path, byte[]> bytes;
  private final Map<Path, String> problems;
  /** By file, in the order the files were given: ticket keys depend on it (the first encrypts). */
  private final Map<Path, String> digests;

  private FileContents(Collection<Path> order, Map<Path, byte[]> bytes,
      Map<Path, String> problems) {
    this.bytes = Map.copyOf(bytes);
    this.problems = Map.copyOf(problems);
    Map<Path, String> d = new LinkedHashMap<>();
    for (Path path : order) {
      byte[] b = bytes.get(path);
      d.put(path, b != null ? sha256(b) : "unreadable: " + problems.get(path));
    }
    this.digests = java.util.Collections.unmodifiableMap(d);
  }

  /** Reads every file (blocking: a worker thread). A missing or unreadable file is remembered. */
  public static FileContents read(Collection<Path> files) {
    Map<Path, byte[]> bytes = new LinkedHashMap<>();
    Map<Path, String> problems = new LinkedHashMap<>();
    for (Path file : files) {
      try {
        bytes.put(file, Files.readAllBytes(file));
      } catch (NoSuchFileException e) {
        problems.put(file, "file " + file + " does not exist");
      } catch (IOException e) {
        problems.put(file, "cannot read file " + file + ": " + e.getClass().getSimpleName());
      }
    }
    return new FileContents(files, bytes, problems);
  }

  /** Contents already in memory, e.g. the bytes of the certificates being served. */
  public static FileContents of(Map<Path, byte[]> bytes) {
    return new FileContents(bytes.keySet(), bytes, Map.of());
  }

  /** These contents followed by {@code more}'s. */
  public FileContents with(FileContents more) {
    Map<Path, byte[]> allBytes = new LinkedHashMap<>(bytes);
    allBytes.putAll(more.bytes);
    Map<Path, String> allProblems = new LinkedHashMap<>(problems);
    allProblems.putAll(more.problems);
    java.util.Set<Path> order = new java.util.LinkedHashSet<>(files());
    order.addAll(more.files());
    return new FileContents(order, allBytes, allProblems);
  }

  /** What these contents hold of {@code files} (read or not), in the order of {@code files}. */
  public FileContents only(Collection<Path> files) {
    Map<Path, byte[]> someBytes = new LinkedHashMap<>();
    Map<Path, String> someProblems = new LinkedHashMap<>();
    for (Path file : files) {
      if (bytes.containsKey(file)) {
        someBytes.put(file, bytes.get(file));
      } else {
        someProblems.put(file, problems.getOrDefault(file, "file " + file + " was not read"));
      }
    }
    return new FileContents(files, someBytes, someProblems);
  }

  /** The files read, in order. */
  public java.util.Set<Path> files() {
    return digests.keySet();
  }

  /** The bytes of {@code file}; a problem naming the file if it could not be read. */
  public byte[] bytes(Path file) throws CertificatePair.CertificateProblem {
    byte[] b = bytes.get(file);
    if (b == null) {
      String problem = problems.get(file);
      throw new CertificatePair.CertificateProblem(problem != null ? problem
          : "file " + file + " was not read");
    }
    return b.clone();
  }

  /** The files whose bytes differ from (or are missing in) {@code other}. */
  public java.util.List<Path> changedSince(FileContents other) {
    return digests.keySet().stream()
        .filter(p -> !Objects.equals(digests.get(p), other.digests.get(p))).toList();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FileContents other && digests.equals(other.digests);
  }

  @Override
  public int hashCode() {
    return digests.hashCode();
  }

  @Override
  public String toString() {
    // Digests and paths only: never the bytes (a key file's).
    return digests.toString();
  }

  private static String sha256(byte[] b) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(b);
      StringBuilder hex = new StringBuilder();
      for (byte x : d) {
        hex.append(String.format("%02x", x));
      }
      return hex.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
