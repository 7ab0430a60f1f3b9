package io.postern.session;

import io.postern.auth.ClientCertificate;
import io.postern.backend.ClientOrigin;
import io.postern.config.ListenerConfig;
import io.postern.net.Addresses;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLSession;

/**
 * One client session as its log line reports it (DESIGN.md §7), filled in as the session goes.
 * {@link #end} writes that line exactly once, whatever ended the session (the client, the
 * backend, the idle timer, shutdown, a limit), and gives back the connection's slot.
 */
final class SessionRecord {

  /** 12 hex digits; not String.format, which costs more than the rest of the record. */
  private final String id = Long.toHexString(
      (ThreadLocalRandom.current().nextLong() & 0xffffffffffffL) | (1L << 48)).substring(1);
  private final long startNanos = System.nanoTime();
  private final java.time.Instant since = java.time.Instant.now();
  private final ListenerConfig listener;
  private final InetAddress clientAddress;
  private final int clientPort;
  /** Where the client connected to: Postern's address, or a trusted PROXY header's destination. */
  private final InetAddress localAddress;
  private final int localPort;
  private final Runnable release;
  private String tlsProtocol;
  private String tlsCipher;
  /** The TLS session's client certificate, null where the listener asks for none. */
  private ClientCertificate clientCertificate;
  private String user;
  private String backend;
  private String server;
  /** Run at the end, after the slot is given back: the backend server's session count. */
  private Runnable serverRelease = () -> { };
  private long toClient;
  private long toBackend;
  private boolean ended;
  /** Run once at the end: the session leaves the live-session directory. */
  private Runnable leave = () -> { };
  /** The result asked for when the session was ended from outside, or null. */
  private String requestedEnd;

  /**
   * {@code localAddress} and {@code localPort} are where the client connected to (null when not
   * known); {@code release} gives back the connection's slot (limits, meters) when the session
   * ends.
   */
  SessionRecord(ListenerConfig listener, InetAddress clientAddress, int clientPort,
      InetAddress localAddress, int localPort, Runnable release) {
    this.listener = listener;
    this.clientAddress = clientAddress;
    this.clientPort = clientPort;
    this.localAddress = localAddress;
    this.localPort = localPort;
    this.release = release;
  }

  String id() {
    return id;
  }

  /** When the connection was accepted. */
  java.time.Instant since() {
    return since;
  }

  int clientPort() {
    return clientPort;
  }

  /** The user name of the last login attempt, or null before one. */
  String user() {
    return user;
  }

  /** The server tried last, or the one the session relays through; null before. */
  String server() {
    return server;
  }

  /** {@code leave} runs once, at the end, after the log line. */
  void listed(Runnable leave) {
    this.leave = leave;
  }

  /** The session was asked to end with {@code result} (the first ask counts). */
  void requestedEnd(String result) {
    if (requestedEnd == null) {
      requestedEnd = result;
    }
  }

  String requestedEnd() {
    return requestedEnd;
  }

  ListenerConfig listener() {
    return listener;
  }

  /** The client's address (the one a trusted PROXY header named, if any). */
  InetAddress clientAddress() {
    return clientAddress;
  }

  /** The client's address as nginx writes it (IPv6 in RFC 5952's short form). */
  String clientIp() {
    return Addresses.text(clientAddress);
  }

  /**
   * Where this session's login comes from, for a backend that is told (IMAP ID, POP3 XCLIENT,
   * PROXY v2): the client, the address it connected to, and this session's id, which the
   * backend's log then shows next to Postern's.
   */
  ClientOrigin origin() {
    return new ClientOrigin(clientIp(), clientPort,
        localAddress == null ? null : Addresses.text(localAddress), localPort, id);
  }

  /** Takes the TLS facts of {@code session}, if any; kept after the socket has closed. */
  void tls(SSLSession session) {
    if (session != null) {
      tlsProtocol = session.getProtocol();
      tlsCipher = session.getCipherSuite();
    }
  }

  void clientCertificate(ClientCertificate certificate) {
    clientCertificate = certificate;
  }

  /** The client certificate of the TLS session, or null (no TLS, or none asked for). */
  ClientCertificate clientCertificate() {
    return clientCertificate;
  }

  /** The negotiated TLS version, or null before TLS. */
  String tlsProtocol() {
    return tlsProtocol;
  }

  String tlsCipher() {
    return tlsCipher;
  }

  void user(String name) {
    this.user = name;
  }

  /** The backend chosen for the login, or null before one is chosen. */
  String backend() {
    return backend;
  }

  void backend(String name) {
    this.backend = name;
  }

  /** The server tried last, or the one the session relays through. */
  void server(String name) {
    this.server = name;
  }

  /** The session holds a place at its server until it ends; {@code release} gives it back. */
  void heldAtServer(Runnable release) {
    if (ended) {
      // The client left while the backend was logging it in: nothing holds the place now.
      release.run();
    } else {
      this.serverRelease = release;
    }
  }

  void relayed(long bytesToClient, long bytesToBackend) {
    this.toClient = bytesToClient;
    this.toBackend = bytesToBackend;
  }

  /** Since the connection was accepted. */
  Duration age() {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /** Writes the session log line with {@code result} and releases the slot; once only. */
  void end(String result) {
    if (ended) {
      return;
    }
    ended = true;
    try {
      String ip = clientIp();
      String client = (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + clientPort;
      SessionLog.write(new SessionLog.Entry(id, listener.name(), listener.protocol().id(), client,
          tlsProtocol, user, backend, result, age(), toClient, toBackend, server));
    } finally {
      // Whatever happened above, the connection-limit slot is given back.
      release.run();
      serverRelease.run();
      leave.run();
    }
  }
}
