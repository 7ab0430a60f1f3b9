package io.postern.pop3;

import io.postern.credentials.Secret;
import io.postern.backend.BackendConnection;
import io.postern.backend.BackendConnector;
import io.postern.backend.BackendLoginException;
import io.postern.backend.BackendLoginException.Kind;
import io.postern.backend.BackendSession;
import io.postern.backend.BackendTarget;
import io.postern.config.TlsMode;
import io.postern.sasl.SaslPlain;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Logs in to a POP3 backend on the user's behalf: greeting, STLS when configured, CAPA, then
 * AUTH PLAIN with an initial response when offered, else USER and PASS. No pipelining: old
 * servers mishandle it. The backend's final {@code +OK} line is what the client gets.
 */
public final class Pop3BackendLogin {

  /** CAPA answers are short; a longer one is not a POP3 server we want to talk to. */
  private static final int MAX_CAPA_LINES = 100;

  private final BackendConnection conn;
  private List<String> capabilities = List.of();

  private Pop3BackendLogin(BackendConnection conn) {
    this.conn = conn;
  }

  public static Future<BackendSession> login(BackendConnector connector, BackendTarget target,
      String user, Secret password) {
    return BackendConnection.open(connector, target).compose(conn ->
        new Pop3BackendLogin(conn).run(user, password).onFailure(e -> conn.abort()));
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

  private Future<BackendSession> run(String user, Secret password) {
    return conn.readLine()
        .compose(this::greeting)
        .compose(v -> conn.target().tls() == TlsMode.STARTTLS ? startTls() : Future.succeededFuture())
        .compose(v -> capa())
        .compose(v -> authenticate(user, password))
        .map(ok -> conn.finish(Buffer.buffer((ok + "\r\n").getBytes(StandardCharsets.ISO_8859_1))));
  }

  private Future<Void> greeting(String line) {
    if (line.startsWith("+OK")) {
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

  private Future<String> authenticate(String user, Secret password) {
    boolean plain = capabilities.stream()
        .anyMatch(c -> c.startsWith("SASL ") && List.of(c.split(" ")).contains("PLAIN"));
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
        .compose(line -> line.startsWith("+OK") ? Future.succeededFuture(line) : verdict(line))
        .compose(v -> conn.send(pass))
        .compose(v -> conn.readLine())
        .compose(this::verdict);
  }

  private Future<String> verdict(String line) {
    if (line.startsWith("+OK")) {
      return Future.succeededFuture(line);
    }
    String detail = conn.target() + " refused the login: " + BackendLoginException.excerpt(line);
    String upper = line.toUpperCase(Locale.ROOT);
    Kind kind;
    if (upper.startsWith("-ERR [IN-USE]") || upper.startsWith("-ERR [LOGIN-DELAY]")) {
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
