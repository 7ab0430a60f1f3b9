package io.postern.tls;

import java.util.Optional;

/**
 * Decides, at each look at the certificate and key files, whether they hold something new to
 * act on. New contents are acted on only once two looks in a row, one interval apart, saw the
 * same bytes: a pair caught half-written (the certificate copied, the key not yet; a file being
 * rewritten in place) is never tried, so it never causes a refusal, and a refusal is said once
 * per contents, not at every look.
 */
public final class CertificateWatcher {

  /** What the previous look read. */
  private FileContents previous;
  /** Contents that settled and were refused: not tried again until the files change. */
  private FileContents refused;

  /**
   * Reads the files {@code serving} came from (blocking: a worker thread). Returns their
   * contents when they differ from {@code serving} and have settled.
   */
  public Optional<FileContents> look(FileContents serving) {
    return decide(serving, FileContents.read(serving.files()));
  }

  /** The decision alone, for contents already read. */
  public synchronized Optional<FileContents> decide(FileContents serving, FileContents now) {
    FileContents before = previous;
    previous = now;
    if (now.equals(serving)) {
      refused = null;
      return Optional.empty();
    }
    if (!now.equals(before) || now.equals(refused)) {
      return Optional.empty();
    }
    return Optional.of(now);
  }

  /** {@code contents} could not be used: wait for the files to change again. */
  public synchronized void refused(FileContents contents) {
    refused = contents;
  }
}
