package io.postern.pop3;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Logs in to a POP3 backend on the user's behalf: greeting, STLS when configured, CAPA, XCLIENT
 * when the backend is told the client's address, then AUTH PLAIN with an initial response when
 * offered, else USER and PASS. No pipelining: old servers mishandle it. The backend's final
 * {@code +OK} line is what the client gets. A backend that wants TLS where it is configured
 * without is a configuration error (like IMAP's LOGINDISABLED), never a wrong password.
 */
public final class Pop3BackendLogin {

  /** CAPA answers are short; a longer one is not a POP3 server we want to talk to. */
  private static final int MAX_CAPA_LINES = 100;
  /** RFC 5034 §4: an AUTH line with its initial response is at most 255 octets. */
  static final int MAX_AUTH_LINE = 255;

  private final BackendConnection conn;
  private List<String> capabilities = List.of();
  /** The greeting announced XCLIENT (Dovecot: {@code +OK [XCLIENT] ...}, to trusted peers only). */
  private boolean xclientGreeting;
  /** The backend answered CAPA: what it does not list, it does not offer now. */
  private boolean capaAnswered;

  private Pop3BackendLogin(BackendConnection conn) {
    this.conn = conn;
  }

  public static Future<BackendSession> login(BackendConnector connector, BackendTarget target,
      BackendCredentials credentials) {
    return BackendConnection.open(connector, target).compose(conn ->
        new Pop3BackendLogin(conn).run(credentials).onFailure(e -> conn.abort()));
  }

  /** A health check: greeting, STLS, CAPA and QUIT. Gives the CAPA lines, upper case. */
  public static Future<java.util.Set<String>> probe(BackendConnector connector,
      BackendTarget target) {
    return BackendConnection.open(connector, target).compose(conn -> {
      Pop3BackendLogin check = new Pop3BackendLogin(conn);
      return conn.readLine()
          .compose(check::greeting)
          .compose(v -> target.tls() == TlsMode.STARTTLS ? check.startTls()
              : Future.succeededFuture())
          .compose(v -> check.capa())
          .compose(v -> conn.send("QUIT\r\n"))
          .compose(v -> conn.readLine())
          .map(v -> java.util.Set.copyOf(check.capabilities))
          .andThen(ar -> conn.abort());
    });
  }

  private Future<BackendSession> run(BackendCredentials credentials) {
    return conn.readLine()
        .compose(this::greeting)
        .compose(v -> conn.target().tls() == TlsMode.STARTTLS ? startTls() : Future.succeededFuture())
        .compose(v -> capa())
        .compose(v -> xclient())
        .compose(v -> authenticate(credentials))
        .map(ok -> conn.finish(Buffer.buffer((ok + "\r\n").getBytes(StandardCharsets.ISO_8859_1))));
  }

  private Future<Void> greeting(String line) {
    if (line.startsWith("+OK")) {
      xclientGreeting = line.regionMatches(true, 3, " [XCLIENT]", 0, 10);
      return Future.succeededFuture();
    }
    Kind kind = line.startsWith("-ERR") ? Kind.UNAVAILABLE : Kind.PROTOCOL;
    return conn.failWith(new BackendLoginException(kind, conn.target()
        + " sent no POP3 greeting: " + BackendLoginException.excerpt(line)));
  }

  private Future<Void> startTls() {
    return conn.send("STLS\r\n").compose(v -> conn.readLine()).compose(line -> {
      if (!line.startsWith("+OK")) {
        return conn.failWith(new BackendLoginException(Kind.TLS, conn.target()
            + " refused STLS: " + BackendLoginException.excerpt(line)));
      }
      return conn.startTls();
    });
  }

  private Future<Void> capa() {
    return conn.send("CAPA\r\n").compose(v -> conn.readLine()).compose(line -> {
      if (!line.startsWith("+OK")) {
        return Future.succeededFuture();
      }
      return capaLines(new ArrayList<>());
    });
  }

  private Future<Void> capaLines(List<String> lines) {
    return conn.readLine().compose(line -> {
      if (line.equals(".")) {
        capabilities = List.copyOf(lines);
        capaAnswered = true;
        return Future.succeededFuture();
      }
      if (lines.size() >= MAX_CAPA_LINES) {
        return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
            + " sent an endless CAPA list"));
      }
      lines.add(line.toUpperCase(Locale.ROOT));
      return capaLines(lines);
    });
  }

  /**
   * With {@code client-ip: forward}, tells the backend the client's address, port and the
   * session id (Dovecot's {@code XCLIENT ADDR= PORT= SESSION=}, which it accepts from a proxy
   * in its {@code login_trusted_networks}). Sent after STLS, as Dovecot's own proxy does: the
   * address does not cross the network in plaintext when the operator asked for TLS, and a
   * login process applies it to the login that follows on the same connection, TLS or not. The
   * announcement itself came in the plaintext greeting: one forged or stripped there costs only
   * the address (a refusal is logged and the login goes on without it), never the credentials.
   * No {@code TTL=}: Postern does not count proxy hops, and the backend's default stands.
   */
  private Future<Void> xclient() {
    BackendTarget target = conn.target();
    ClientOrigin origin = target.clientIp() == ClientIp.FORWARD ? target.origin() : null;
    if (origin == null) {
      return Future.succeededFuture();
    }
    boolean offered = xclientGreeting || capabilities.stream()
        .anyMatch(c -> c.equals("XCLIENT") || c.startsWith("XCLIENT "));
    if (!offered) {
      ClientAddressWarnings.missing(target, "XCLIENT",
          "announces no XCLIENT (neither [XCLIENT] in its greeting nor in CAPA)");
      return Future.succeededFuture();
    }
    return conn.send("XCLIENT ADDR=" + origin.clientIp() + " PORT=" + origin.clientPort()
            + " SESSION=" + origin.sessionId() + "\r\n")
        .compose(v -> conn.readLine())
        .map(line -> {
          if (!line.startsWith("+OK")) {
            ClientAddressWarnings.missing(target, "XCLIENT",
                "refused XCLIENT: " + BackendLoginException.excerpt(line));
          }
          return null;
        });
  }

  /**
   * A master user's login into another user's mailbox: AUTH PLAIN with the mailbox's owner as
   * the authorization identity (RFC 4616), as an initial response (RFC 5034). USER/PASS has no
   * place for it, so a backend that does not list SASL PLAIN in CAPA is a configuration error,
   * never a wrong password.
   */
  private Future<String> authenticateAs(BackendCredentials credentials) {
    if (!offersPlain()) {
      if (!conn.secured() && capabilities.contains("STLS")) {
        return conn.failWith(tlsRequired("offers no SASL PLAIN before STLS, which master logins"
            + " need"));
      }
      // This login's own answer, not the server's fault: other logins work there, so a pool
      // must neither take the server out (passive health) nor try the next one.
      conn.credentialsSent();
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " does not offer SASL PLAIN, which master logins need; enable PLAIN there, or"
          + " remove backends." + conn.target().backend() + ".master"));
    }
    String response = SaslPlain.encode(credentials.authorizeAs(), credentials.user(),
        credentials.secret());
    conn.credentialsSent();
    return conn.send("AUTH PLAIN " + response + "\r\n").compose(v -> conn.readLine())
        .compose(this::verdict);
  }

  private boolean offersPlain() {
    return capabilities.stream()
        .anyMatch(c -> c.startsWith("SASL ") && List.of(c.split(" ")).contains("PLAIN"));
  }

  /**
   * The client's bearer token, replayed with its own mechanism: {@code AUTH <mechanism>} with
   * the initial response when the line stays within RFC 5034's 255 octets, else after the empty
   * challenge. A refused token comes back as an error challenge, answered with the mechanism's
   * dummy response, and then {@code -ERR}.
   */
  private Future<String> authenticateWithToken(BackendCredentials credentials) {
    String mechanism = credentials.mechanism().name();
    boolean offered = capabilities.stream()
        .anyMatch(c -> c.startsWith("SASL ") && List.of(c.split(" ")).contains(mechanism));
    if (!offered) {
      // A configuration error, not the user's: nothing was sent.
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " does not list " + mechanism + " in its CAPA SASL line, and the auth source asked"
          + " for the token to be replayed: enable " + mechanism + " there, or have the source"
          + " answer with a password"));
    }
    String response = BearerReplay.response(credentials);
    String withResponse = "AUTH " + mechanism + " " + response;
    conn.credentialsSent();
    if (withResponse.length() <= MAX_AUTH_LINE) {
      return conn.send(withResponse + "\r\n").compose(v -> conn.readLine())
          .compose(line -> tokenVerdict(line, credentials));
    }
    return conn.send("AUTH " + mechanism + "\r\n").compose(v -> conn.readLine())
        .compose(line -> {
          if (!line.startsWith("+ ") && !line.equals("+")) {
            return verdict(line);
          }
          return conn.send(response + "\r\n").compose(v -> conn.readLine())
              .compose(next -> tokenVerdict(next, credentials));
        });
  }

  /** The answer to the token: an error challenge is answered once, then comes {@code -ERR}. */
  private Future<String> tokenVerdict(String line, BackendCredentials credentials) {
    if (!line.startsWith("+ ") && !line.equals("+")) {
      return verdict(line);
    }
    return conn.send(BearerReplay.afterError(credentials) + "\r\n")
        .compose(v -> conn.readLine())
        .compose(last -> last.startsWith("+ ") || last.equals("+")
            ? conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
                + " sent one SASL challenge too many: " + BackendLoginException.excerpt(last)))
            : verdict(last));
  }

  private Future<String> authenticate(BackendCredentials credentials) {
    if (credentials.authorizeAs() != null) {
      return authenticateAs(credentials);
    }
    if (credentials.mechanism() != BackendCredentials.Mechanism.PASSWORD) {
      return authenticateWithToken(credentials);
    }
    String user = credentials.user();
    Secret password = credentials.secret();
    boolean plain = capabilities.stream()
        .anyMatch(c -> c.startsWith("SASL ") && List.of(c.split(" ")).contains("PLAIN"));
    if (capaAnswered && !conn.secured() && !plain && !capabilities.contains("USER")
        && capabilities.contains("STLS")) {
      // Dovecot with disable_plaintext_auth: no password may go out before STLS. Nothing sent.
      return conn.failWith(tlsRequired("offers neither USER nor SASL PLAIN before STLS"));
    }
    byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
    conn.credentialsSent();
    if (plain) {
      return conn.send("AUTH PLAIN " + SaslPlain.encode(user, password) + "\r\n").compose(v -> conn.readLine())
          .compose(this::verdict);
    }
    if (!Pop3Lines.fitsOnLine(userBytes) || password.hasLineBreakOrNul()) {
      return conn.failWith(new BackendLoginException(Kind.REJECTED,
          "the user name or password cannot be sent with USER/PASS to " + conn.target()));
    }
    Buffer pass = Buffer.buffer("PASS ").appendBytes(password.bytes()).appendString("\r\n");
    return conn.send(Buffer.buffer("USER ").appendBytes(userBytes).appendString("\r\n"))
        .compose(v -> conn.readLine())
        .compose(line -> line.startsWith("+OK") ? Future.succeededFuture(line) : userRefused(line))
        .compose(v -> conn.send(pass))
        .compose(v -> conn.readLine())
        .compose(this::verdict);
  }

  /**
   * USER refused: a server that wants TLS first says so here, before any password (Courier with
   * POP3_TLS_REQUIRED: "-ERR TLS required to log in."; Dovecot: "-ERR [AUTH] Plaintext
   * authentication disallowed on non-secure (SSL/TLS) connections."). Nothing the user typed
   * is wrong then: the backend's {@code tls} setting is.
   */
  private Future<String> userRefused(String line) {
    String upper = line.toUpperCase(Locale.ROOT);
    if (!conn.secured() && upper.startsWith("-ERR") && (mentionsTls(upper)
        || upper.startsWith("-ERR [AUTH]") && capabilities.contains("STLS"))) {
      return conn.failWith(tlsRequired("refused USER without TLS: "
          + BackendLoginException.excerpt(line)));
    }
    return verdict(line);
  }

  private static boolean mentionsTls(String upper) {
    return upper.contains("TLS") || upper.contains("SSL");
  }

  /** A configuration error, not the user's: logged with what to change, answered SYS/TEMP. */
  private BackendLoginException tlsRequired(String what) {
    return new BackendLoginException(Kind.TLS, conn.target() + " " + what
        + "; it requires TLS: configure pop3: { tls: starttls } (or implicit) for backend '"
        + conn.target().backend() + "'");
  }

  private Future<String> verdict(String line) {
    if (line.startsWith("+OK")) {
      return Future.succeededFuture(line);
    }
    String detail = conn.target() + " refused the login: " + BackendLoginException.excerpt(line);
    String upper = line.toUpperCase(Locale.ROOT);
    Kind kind;
    if (!conn.secured() && upper.startsWith("-ERR") && mentionsTls(upper)) {
      // AUTH PLAIN or PASS refused for want of TLS (Courier offers SASL PLAIN even then).
      return conn.failWith(tlsRequired("refused the login without TLS: "
          + BackendLoginException.excerpt(line)));
    } else if (upper.startsWith("-ERR [IN-USE]") || upper.startsWith("-ERR [LOGIN-DELAY]")) {
      kind = Kind.IN_USE;
    } else if (upper.startsWith("-ERR [SYS/")) {
      kind = Kind.UNAVAILABLE;
    } else if (upper.startsWith("-ERR")) {
      kind = Kind.REJECTED;
    } else {
      kind = Kind.PROTOCOL;
    }
    return conn.failWith(new BackendLoginException(kind, detail));
  }
}
