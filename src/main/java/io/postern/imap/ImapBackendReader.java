package io.postern.imap;

import io.postern.backend.BackendConnection;
import io.postern.backend.BackendLoginException;
import io.postern.backend.BackendLoginException.Kind;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a backend's replies during login, stepping over literals in untagged lines. Every line
 * read for one reply counts against one budget: a chatty or hostile backend fails the login
 * instead of growing a list, or a chain of futures, without end.
 */
final class ImapBackendReader {

  /** A login exchange never needs more lines for one reply. */
  static final int MAX_LINES = 200;

  private final BackendConnection conn;
  private int lines;

  private ImapBackendReader(BackendConnection conn) {
    this.conn = conn;
  }

  /** Reads up to and including the line tagged {@code tag}. */
  static Future<ImapReply> reply(BackendConnection conn, String tag) {
    return new ImapBackendReader(conn).collect(tag, new ArrayList<>());
  }

  /**
   * Reads up to the line tagged {@code tag} of an AUTHENTICATE, answering each {@code +}
   * challenge before it with the next of {@code answers}; one challenge more than answers is a
   * protocol error.
   */
  static Future<ImapReply> saslReply(BackendConnection conn, String tag, List<String> answers) {
    return new ImapBackendReader(conn).collectSasl(tag, new ArrayList<>(), answers, 0);
  }

  private Future<ImapReply> collectSasl(String tag, List<String> untagged, List<String> answers,
      int answered) {
    return line().compose(line -> {
      if (!line.startsWith("+")) {
        if (!line.startsWith("* ")) {
          return collect(line, tag, untagged);
        }
        untagged.add(line);
        return skipLiteral(line).compose(v -> collectSasl(tag, untagged, answers, answered));
      }
      if (answered >= answers.size()) {
        return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
            + " sent one SASL challenge too many: " + BackendLoginException.excerpt(line)));
      }
      return conn.send(answers.get(answered) + "\r\n")
          .compose(v -> collectSasl(tag, untagged, answers, answered + 1));
    });
  }

  /** Waits for a {@code +} continuation; a tagged line instead means the command was refused. */
  static Future<Void> continuation(BackendConnection conn, String tag) {
    return new ImapBackendReader(conn).awaitContinuation(tag);
  }

  private Future<Void> awaitContinuation(String tag) {
    return line().compose(line -> {
      if (line.startsWith("+")) {
        return Future.succeededFuture();
      }
      if (line.startsWith(tag + " ")) {
        return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
            + " refused a literal: " + BackendLoginException.excerpt(line)));
      }
      return skipLiteral(line).compose(v -> awaitContinuation(tag));
    });
  }

  private Future<ImapReply> collect(String tag, List<String> untagged) {
    return line().compose(line -> collect(line, tag, untagged));
  }

  private Future<ImapReply> collect(String line, String tag, List<String> untagged) {
    if (line.startsWith(tag + " ")) {
      return Future.succeededFuture(new ImapReply(untagged, line));
    }
    if (!line.startsWith("* ")) {
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " sent an unexpected line: " + BackendLoginException.excerpt(line)));
    }
    untagged.add(line);
    return skipLiteral(line).compose(v -> collect(tag, untagged));
  }

  /** A line ending in {@code {n}} is followed by n bytes and then the rest of the response. */
  private Future<Void> skipLiteral(String line) {
    long n = ImapLines.literalAtEnd(line);
    if (n < 0) {
      return Future.succeededFuture();
    }
    return conn.skip(n).compose(v -> line()).compose(this::skipLiteral);
  }

  private Future<String> line() {
    if (++lines > MAX_LINES) {
      return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
          + " sent more than " + MAX_LINES + " lines for one reply during login"));
    }
    return conn.readLine();
  }
}
