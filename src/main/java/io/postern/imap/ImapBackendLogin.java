package io.postern.imap;

import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Secret;
import io.postern.backend.BackendConnection;
import io.postern.backend.BackendConnector;
import io.postern.backend.BackendLoginException;
import io.postern.backend.BackendLoginException.Kind;
import io.postern.backend.BackendSession;
import io.postern.backend.BackendTarget;
import io.postern.backend.ClientAddressWarnings;
import io.postern.backend.ClientOrigin;
import io.postern.config.BackendConfig.ClientIp;
import io.postern.config.TlsMode;
import io.postern.sasl.BearerReplay;
import io.postern.sasl.SaslPlain;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Logs in to an IMAP backend on the user's behalf: greeting, STARTTLS when configured,
 * CAPABILITY, one ID (the client's, and its address when the backend is told it), then
 * AUTHENTICATE PLAIN with SASL-IR when offered, else LOGIN with literals whenever a string would
 * need quoting rules. Postern uses its own tags; the client gets one tagged OK, with its own tag
 * and the backend's capabilities.
 */
public final class ImapBackendLogin {

  /** The fields RFC 2971 §3.3 defines. */
  static final java.util.Set<String> ID_FIELDS = java.util.Set.of("name", "version", "os",
      "os-version", "vendor", "support-url", "address", "date", "command", "arguments",
      "environment");
  static final int MAX_ID_VALUE = 1024;

  private final BackendConnection conn;
  private final String clientTag;
  private ImapCapabilities capabilities;

  private ImapBackendLogin(BackendConnection conn, String clientTag) {
    this.conn = conn;
    this.clientTag = clientTag;
  }

  /** {@code clientId} is the client's ID list to forward, or null. */
  public static Future<BackendSession> login(BackendConnector connector, BackendTarget target,
      String clientTag, BackendCredentials credentials, List<byte[]> clientId) {
    return BackendConnection.open(connector, target).compose(conn -> {
      ImapBackendLogin login = new ImapBackendLogin(conn, clientTag);
      return login.run(credentials, clientId).onFailure(e -> conn.abort());
    });
  }

  /**
   * A health check: the login's first steps (greeting, STARTTLS, CAPABILITY) and LOGOUT. Gives
   * the capabilities the server offers after TLS, upper case.
   */
  public static Future<java.util.Set<String>> probe(BackendConnector connector,
      BackendTarget target) {
    return BackendConnection.open(connector, target).compose(conn -> {
      ImapBackendLogin check = new ImapBackendLogin(conn, null);
      return conn.readLine()
          .compose(check::greeting)
          .compose(v -> target.tls() == TlsMode.STARTTLS ? check.startTls()
              : Future.succeededFuture())
          .compose(v -> check.capabilities == null ? check.askCapabilities("C1")
              : Future.succeededFuture())
          .compose(v -> conn.send("Z1 LOGOUT\r\n"))
          .compose(v -> ImapBackendReader.reply(conn, "Z1"))
          .map(v -> check.capabilities.upperCase())
          .andThen(ar -> conn.abort());
    });
  }

  private Future<BackendSession> run(BackendCredentials credentials, List<byte[]> clientId) {
    return conn.readLine()
        .compose(this::greeting)
        .compose(v -> conn.target().tls() == TlsMode.STARTTLS ? startTls() : Future.succeededFuture())
        .compose(v -> capabilities == null ? askCapabilities("C1") : Future.succeededFuture())
        .compose(v -> sendId(clientId))
        .compose(v -> authenticate(credentials))
        .compose(this::loggedIn);
  }

  private Future<Void> greeting(String line) {
    String upper = line.toUpperCase(java.util.Locale.ROOT);
    if (upper.startsWith("* PREAUTH")) {
      // PREAUTH skips the login and makes STARTTLS impossible (RFC 9051 §7.1.4).
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " greeted with PREAUTH"));
    }
    if (upper.startsWith("* BYE")) {
      return conn.failWith(new BackendLoginException(Kind.UNAVAILABLE, conn.target()
          + " greeted with BYE: " + BackendLoginException.excerpt(line)));
    }
    if (!upper.startsWith("* OK")) {
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " sent no IMAP greeting: " + BackendLoginException.excerpt(line)));
    }
    capabilitiesFrom(line.length() > 5 ? line.substring(5) : "");
    return Future.succeededFuture();
  }

  private Future<Void> startTls() {
    if (capabilities != null && !capabilities.has("STARTTLS")) {
      return conn.failWith(new BackendLoginException(Kind.TLS, conn.target()
          + " does not offer STARTTLS"));
    }
    return conn.send("S1 STARTTLS\r\n")
        .compose(v -> ImapBackendReader.reply(conn, "S1"))
        .compose(reply -> {
          if (!reply.status().equals("OK")) {
            return conn.failWith(new BackendLoginException(Kind.TLS, conn.target()
                + " refused STARTTLS: " + BackendLoginException.excerpt(reply.tagged())));
          }
          return conn.startTls();
        })
        // Capabilities seen before TLS may have been forged; ask again (RFC 9051 §6.2.1).
        .onSuccess(v -> capabilities = null);
  }

  private Future<Void> askCapabilities(String tag) {
    return conn.send(tag + " CAPABILITY\r\n")
        .compose(v -> ImapBackendReader.reply(conn, tag))
        .map(reply -> {
          for (String line : reply.untagged()) {
            if (line.regionMatches(true, 0, "* CAPABILITY ", 0, 13)) {
              capabilities = ImapCapabilities.parse(line.substring(13));
            }
          }
          if (capabilities == null) {
            capabilities = ImapCapabilities.NONE;
          }
          return null;
        });
  }

  /**
   * Sends one ID command: with {@code client-ip: forward}, the client's address, port, the
   * address it connected to and the session id in Dovecot's fields (which Dovecot takes from a
   * proxy in its {@code login_trusted_networks}, and only from the first ID of a connection);
   * and the client's own ID, keeping only RFC 2971's fields within its size limits, so that a
   * client can never supply {@code x-originating-ip} or any other {@code x-} field itself.
   */
  private Future<Void> sendId(List<byte[]> clientId) {
    BackendTarget target = conn.target();
    ClientOrigin origin = target.clientIp() == ClientIp.FORWARD ? target.origin() : null;
    if (!capabilities.has("ID")) {
      if (origin != null) {
        ClientAddressWarnings.missing(target, "ID", "does not list ID in its capabilities");
      }
      return Future.succeededFuture();
    }
    if (clientId == null && origin == null) {
      return Future.succeededFuture();
    }
    StringBuilder list = new StringBuilder();
    if (origin != null) {
      originFields(list, origin);
    }
    for (int i = 0; clientId != null && i + 1 < clientId.size(); i += 2) {
      byte[] field = clientId.get(i);
      byte[] value = clientId.get(i + 1);
      if (!ImapLines.quotable(field) || !ID_FIELDS.contains(new String(field,
          StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT))
          || value != null && (!ImapLines.quotable(value) || value.length > MAX_ID_VALUE)) {
        continue;
      }
      list.append(list.length() == 0 ? "" : " ").append(ImapLines.quote(field)).append(' ')
          .append(value == null ? "NIL" : ImapLines.quote(value));
    }
    String command = list.length() == 0 ? "I1 ID NIL\r\n" : "I1 ID (" + list + ")\r\n";
    // The answer is the backend's ID, meant for Postern; the client already got Postern's.
    return conn.send(command).compose(v -> ImapBackendReader.reply(conn, "I1")).mapEmpty();
  }

  /** Dovecot's names (imap-login-cmd-id.c); values are addresses, digits and hex: all quotable. */
  private static void originFields(StringBuilder list, ClientOrigin origin) {
    list.append("\"x-originating-ip\" \"").append(origin.clientIp())
        .append("\" \"x-originating-port\" \"").append(origin.clientPort()).append('"');
    if (origin.localIp() != null) {
      list.append(" \"x-connected-ip\" \"").append(origin.localIp())
          .append("\" \"x-connected-port\" \"").append(origin.localPort()).append('"');
    }
    list.append(" \"x-session-id\" \"").append(origin.sessionId()).append('"');
  }

  private Future<ImapReply> authenticate(BackendCredentials credentials) {
    if (capabilities.has("LOGINDISABLED") && !conn.secured()) {
      return conn.failWith(new BackendLoginException(Kind.TLS, conn.target()
          + " refuses LOGIN without TLS; configure tls: starttls or implicit for it"));
    }
    if (credentials.authorizeAs() != null) {
      return authenticateAs(credentials);
    }
    if (credentials.mechanism() != BackendCredentials.Mechanism.PASSWORD) {
      return authenticateWithToken(credentials);
    }
    String user = credentials.user();
    Secret password = credentials.secret();
    byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
    conn.credentialsSent();
    if (capabilities.has("AUTH=PLAIN") && capabilities.has("SASL-IR")) {
      return conn.send("L1 AUTHENTICATE PLAIN " + SaslPlain.encode(user, password) + "\r\n")
          .compose(v -> ImapBackendReader.reply(conn, "L1"));
    }
    return sendLogin(userBytes, password);
  }

  /**
   * A master user's login into another user's mailbox: AUTHENTICATE PLAIN with the mailbox's
   * owner as the authorization identity (RFC 4616), in the command with SASL-IR, else after the
   * continuation. LOGIN has no place for it, so a backend without AUTH=PLAIN is a configuration
   * error, never a wrong password.
   */
  private Future<ImapReply> authenticateAs(BackendCredentials credentials) {
    if (!capabilities.has("AUTH=PLAIN")) {
      String tls = !conn.secured() && capabilities.has("STARTTLS")
          ? " before TLS; configure imap: { tls: starttls } (or implicit) for it, or" : ";";
      // This login's own answer, not the server's fault: other logins work there, so a pool
      // must neither take the server out (passive health) nor try the next one.
      conn.credentialsSent();
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " does not offer AUTH=PLAIN, which master logins need" + tls + " enable PLAIN"
          + " there, or remove backends." + conn.target().backend() + ".master"));
    }
    String response = SaslPlain.encode(credentials.authorizeAs(), credentials.user(),
        credentials.secret());
    conn.credentialsSent();
    if (capabilities.has("SASL-IR")) {
      return conn.send("L1 AUTHENTICATE PLAIN " + response + "\r\n")
          .compose(v -> ImapBackendReader.reply(conn, "L1"));
    }
    return conn.send("L1 AUTHENTICATE PLAIN\r\n")
        .compose(v -> plainContinuation(0))
        .compose(reply -> reply != null ? Future.succeededFuture(reply)
            : conn.send(response + "\r\n").compose(v -> ImapBackendReader.reply(conn, "L1")));
  }

  /** Untagged lines a backend may send before its continuation; more is not IMAP. */
  private static final int MAX_LINES_BEFORE_CONTINUATION = 10;

  /** Null at the {@code +} continuation; the tagged reply if the backend refused at once. */
  private Future<ImapReply> plainContinuation(int skipped) {
    return conn.readLine().compose(line -> {
      if (line.startsWith("+")) {
        return Future.succeededFuture(null);
      }
      if (line.startsWith("L1 ")) {
        return Future.succeededFuture(new ImapReply(List.of(), line));
      }
      if (line.startsWith("* ") && skipped < MAX_LINES_BEFORE_CONTINUATION) {
        return plainContinuation(skipped + 1);
      }
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " answered AUTHENTICATE PLAIN with: " + BackendLoginException.excerpt(line)));
    });
  }

  /**
   * The client's bearer token, replayed with its own mechanism: with SASL-IR when offered, else
   * after the empty challenge. A refused token comes back as an error challenge, answered with
   * the mechanism's dummy response, and then the tagged NO.
   */
  private Future<ImapReply> authenticateWithToken(BackendCredentials credentials) {
    String mechanism = credentials.mechanism().name();
    if (!capabilities.has("AUTH=" + mechanism)) {
      // A configuration error, not the user's: nothing was sent.
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " does not offer AUTH=" + mechanism + ", and the auth source asked for the token"
          + " to be replayed: enable " + mechanism + " there, or have the source answer with a"
          + " password"));
    }
    String response = BearerReplay.response(credentials);
    conn.credentialsSent();
    if (capabilities.has("SASL-IR")) {
      return conn.send("L1 AUTHENTICATE " + mechanism + " " + response + "\r\n")
          .compose(v -> ImapBackendReader.saslReply(conn, "L1",
              List.of(BearerReplay.afterError(credentials))));
    }
    return conn.send("L1 AUTHENTICATE " + mechanism + "\r\n")
        .compose(v -> ImapBackendReader.saslReply(conn, "L1",
            List.of(response, BearerReplay.afterError(credentials))));
  }

  /** LOGIN with quoted strings when plain ASCII, else literals (never re-parsable as commands). */
  private Future<ImapReply> sendLogin(byte[] user, Secret password) {
    byte[] pw = password.bytes();
    boolean literalPlus = capabilities.has("LITERAL+");
    Future<Void> sent = conn.send("L1 LOGIN ")
        .compose(v -> sendString(user, literalPlus))
        .compose(v -> conn.send(" "))
        .compose(v -> sendString(pw, literalPlus))
        .compose(v -> conn.send("\r\n"));
    return sent.compose(v -> ImapBackendReader.reply(conn, "L1"));
  }

  private Future<Void> sendString(byte[] value, boolean literalPlus) {
    if (ImapLines.quotable(value)) {
      return conn.send(Buffer.buffer(ImapLines.quote(value).getBytes(StandardCharsets.US_ASCII)));
    }
    if (literalPlus) {
      return conn.send("{" + value.length + "+}\r\n").compose(v -> conn.send(Buffer.buffer(value)));
    }
    return conn.send("{" + value.length + "}\r\n")
        .compose(v -> ImapBackendReader.continuation(conn, "L1"))
        .compose(v -> conn.send(Buffer.buffer(value)));
  }

  private Future<BackendSession> loggedIn(ImapReply reply) {
    if (!reply.status().equals("OK")) {
      return conn.failWith(refusal(reply));
    }
    ImapCapabilities after = null;
    String code = reply.code();
    if ("CAPABILITY".equals(ImapLines.codeName(code))) {
      after = ImapCapabilities.parse(code);
    }
    for (String line : reply.untagged()) {
      if (line.regionMatches(true, 0, "* CAPABILITY ", 0, 13)) {
        after = ImapCapabilities.parse(line.substring(13));
      }
    }
    if (after != null) {
      return Future.succeededFuture(conn.finish(clientReply(reply, after)));
    }
    // Clients expect the capabilities of the logged-in state; ask when the reply lacks them.
    capabilities = null;
    return askCapabilities("C2")
        .map(v -> conn.finish(clientReply(reply, capabilities)));
  }

  private Buffer clientReply(ImapReply reply, ImapCapabilities caps) {
    String text = reply.afterStatus();
    String code = reply.code();
    String capabilityCode = "[CAPABILITY " + caps.joined() + "]";
    String line;
    if (code == null) {
      line = clientTag + " OK " + capabilityCode + " " + (text.isEmpty() ? "Logged in" : text);
    } else if ("CAPABILITY".equals(ImapLines.codeName(code))) {
      line = clientTag + " OK " + text;
    } else {
      // One code per response: keep the backend's, and give the capabilities untagged first.
      line = "* CAPABILITY " + caps.joined() + "\r\n" + clientTag + " OK " + text;
    }
    return Buffer.buffer((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
  }

  private BackendLoginException refusal(ImapReply reply) {
    String detail = conn.target() + " refused the login: "
        + BackendLoginException.excerpt(reply.tagged().substring(3));
    if (!reply.status().equals("NO")) {
      return new BackendLoginException(Kind.PROTOCOL, detail);
    }
    String code = ImapLines.codeName(reply.code());
    Kind kind = code == null ? Kind.REJECTED : switch (code) {
      case "UNAVAILABLE", "SERVERBUG" -> Kind.UNAVAILABLE;
      case "INUSE", "LIMIT" -> Kind.IN_USE;
      default -> Kind.REJECTED;
    };
    return new BackendLoginException(kind, detail);
  }

  private void capabilitiesFrom(String afterOk) {
    String code = ImapLines.code(afterOk.trim());
    if ("CAPABILITY".equals(ImapLines.codeName(code))) {
      capabilities = ImapCapabilities.parse(code);
    }
  }
}
