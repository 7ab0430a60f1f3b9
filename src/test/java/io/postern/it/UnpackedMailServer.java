package io.postern.it;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What the unpacked interop servers (Courier, Cyrus) have in common: a directory of their own,
 * the unpacked packages they run from, a self-signed certificate, one child process and the four
 * ports it listens on, chosen again on each start attempt.
 */
abstract class UnpackedMailServer implements MailBackend {

  /** The four listeners, all on 127.0.0.1. */
  record Listeners(int imap, int imaps, int pop3, int pop3s) {}

  protected final Path dir;
  protected final UnpackedPackages packages;
  protected final Path certificate;
  protected final ServiceProcess process;
  protected Listeners listeners;

  UnpackedMailServer(Path dir, UnpackedPackages packages, Path certificate,
      ServiceProcess process) {
    this.dir = dir;
    this.packages = packages;
    this.certificate = certificate;
    this.process = process;
  }

  @Override
  public int imapPort() {
    return listeners.imap();
  }

  @Override
  public int imapsPort() {
    return listeners.imaps();
  }

  @Override
  public int pop3Port() {
    return listeners.pop3();
  }

  @Override
  public int pop3sPort() {
    return listeners.pop3s();
  }

  @Override
  public Path certificate() {
    return certificate;
  }

  @Override
  public String logText() throws IOException {
    return process.output();
  }

  @Override
  public void close() {
    process.close();
  }

  @Override
  public String toString() {
    return process + " on " + listeners;
  }
}
