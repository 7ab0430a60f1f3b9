package io.postern.config;

import java.nio.file.Path;

/**
 * A named mailbox server. {@code ca} is a PEM file of trusted CAs for this backend, or null for the
 * system trust store.
 */
public record BackendConfig(
    String name, String host, Endpoint imap, Endpoint pop3, boolean tlsVerify, Path ca) {

  /** The port and TLS mode for one protocol. */
  public record Endpoint(int port, TlsMode tls) {}

  public Endpoint endpoint(Protocol protocol) {
    return protocol == Protocol.IMAP ? imap : pop3;
  }
}
