package io.postern.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A named place for mailboxes: one server ({@code host}) or a pool of them ({@code servers}),
 * with the ports and TLS modes each protocol uses on every server of it. {@code ca} is a PEM file
 * of trusted CAs for this backend, or null for the system trust store.
 */
public record BackendConfig(
    String name, List<Server> servers, Endpoint imap, Endpoint pop3, boolean tlsVerify, Path ca,
    Balance balance, HealthCheck healthCheck, ClientIp clientIp, Master master) {

  /**
   * {@code backends.<name>.master}: the backend's master user, with which Postern opens a
   * customer's mailbox for a master login (SASL PLAIN with the customer as the authorization
   * identity). {@code password} is read from {@code passwordFile} when the configuration is
   * loaded (null until then). The configuration is plain data, so it is a String here (the
   * auth layer wraps it in a {@code Secret}); it never appears in {@code toString()}.
   */
  public record Master(String user, Path passwordFile, String password) {

    public Master withPassword(String value) {
      return new Master(user, passwordFile, value);
    }

    @Override
    public String toString() {
      return "Master[user=" + user + ", passwordFile=" + passwordFile + "]";
    }
  }

  /** Without a master user. */
  public BackendConfig(String name, List<Server> servers, Endpoint imap, Endpoint pop3,
      boolean tlsVerify, Path ca, Balance balance, HealthCheck healthCheck, ClientIp clientIp) {
    this(name, servers, imap, pop3, tlsVerify, ca, balance, healthCheck, clientIp, null);
  }

  /** The port and TLS mode for one protocol. */
  public record Endpoint(int port, TlsMode tls) {}

  /**
   * One server of a pool. {@code name} labels it in metrics, logs and {@code /health/ready}
   * (its host unless configured); a null port means the backend's port for that protocol.
   */
  public record Server(String name, String host, int weight, Integer imapPort, Integer pop3Port) {

    public static final int MAX_WEIGHT = 100;
    /** Far beyond any mail pool; keeps the hash ring (160 points per weight) a few MB. */
    public static final int MAX_SERVERS = 1000;
    public static final int MAX_TOTAL_WEIGHT = 10_000;

    public static Server of(String host) {
      return new Server(host, host, 1, null, null);
    }

    public int port(Protocol protocol, Endpoint endpoint) {
      Integer own = protocol == Protocol.IMAP ? imapPort : pop3Port;
      return own != null ? own : endpoint.port();
    }
  }

  /** How a user's server is chosen among the live servers of a pool. */
  public enum Balance {
    /** Consistent hashing of the user name, weighted: a user stays on one server. */
    USER_HASH("user-hash"),
    /** The live server with the fewest sessions (for backends that share all mailboxes). */
    LEAST_CONNECTIONS("least-connections");

    private final String id;

    Balance(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }
  }

  /**
   * Active checks of each server and protocol, HAProxy's way: {@code fall} failed checks in a row
   * take a server down, {@code rise} good ones bring it back.
   */
  public record HealthCheck(boolean enabled, Duration interval, Duration timeout, int fall,
      int rise) {

    public static final HealthCheck DEFAULT =
        new HealthCheck(true, Duration.ofSeconds(5), Duration.ofSeconds(2), 3, 2);
    public static final HealthCheck OFF =
        new HealthCheck(false, DEFAULT.interval, DEFAULT.timeout, DEFAULT.fall, DEFAULT.rise);
  }

  /** How the client's address reaches the backend. */
  public enum ClientIp {
    NONE("none"),
    /** IMAP ID x-originating-ip and friends; POP3 XCLIENT (Dovecot's fields). */
    FORWARD("forward"),
    /** A PROXY protocol v2 header before anything else on the connection. */
    PROXY_V2("proxy-v2");

    private final String id;

    ClientIp(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }
  }

  public BackendConfig {
    servers = List.copyOf(servers);
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("a backend needs at least one server");
    }
  }

  /** One server, as before pools: checked passively only, its address passed on as nothing. */
  public BackendConfig(String name, String host, Endpoint imap, Endpoint pop3, boolean tlsVerify,
      Path ca) {
    this(name, List.of(Server.of(host)), imap, pop3, tlsVerify, ca, Balance.USER_HASH,
        HealthCheck.OFF, ClientIp.NONE);
  }

  public Endpoint endpoint(Protocol protocol) {
    return protocol == Protocol.IMAP ? imap : pop3;
  }

  /** The first server's host: the one host of a single-server backend. */
  public String host() {
    return servers.get(0).host();
  }

  public BackendConfig withClientIp(ClientIp value) {
    return new BackendConfig(name, servers, imap, pop3, tlsVerify, ca, balance, healthCheck,
        value, master);
  }

  public BackendConfig withHealthCheck(HealthCheck value) {
    return new BackendConfig(name, servers, imap, pop3, tlsVerify, ca, balance, value, clientIp,
        master);
  }

  public BackendConfig withMaster(Master value) {
    return new BackendConfig(name, servers, imap, pop3, tlsVerify, ca, balance, healthCheck,
        clientIp, value);
  }
}
