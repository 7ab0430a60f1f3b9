package io.postern.session;

import java.net.InetAddress;

/**
 * Whether a client may start one more TLS handshake now ({@code limits.handshake-rate-per-ip}):
 * a full handshake costs the server about a millisecond of CPU, the client next to nothing.
 */
@FunctionalInterface
public interface HandshakeLimit {

  /** Takes one handshake from {@code client}'s allowance; false if it has none left now. */
  boolean tryTake(InetAddress client);
}
