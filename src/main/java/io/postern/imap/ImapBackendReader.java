package io.postern.imap;

import io.postern.backend.BackendConnection;
import io.postern.backend.BackendLoginException;
import io.postern.backend.BackendLoginException.Kind;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/** Reads a backend's replies during login, stepping over literals in untagged lines. */
final class ImapBackendReader {

  /** A login exchange never needs more; a chattier backend is broken or hostile. */
  private static final int MAX_UNTAGGED = 200;

  private ImapBackendReader() {}

  /** Reads up to and including the line tagged {@code tag}. */
  static Future<ImapReply> reply(BackendConnection conn, String tag) {
    return collect(conn, tag, new ArrayList<>());
  }

  /** Waits for a {@code +} continuation; a tagged line instead means the command was refused. */
  static Future<Void> continuation(BackendConnection conn, String tag) {
    return conn.readLine().compose(line -> {
      if (line.startsWith("+")) {
        return Future.succeededFuture();
      }
      if (line.startsWith(tag + " ")) {
        return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
            + " refused a literal: " + BackendLoginException.excerpt(line)));
      }
      return skipLiteral(conn, line).compose(v -> continuation(conn, tag));
    });
  }

  private static Future<ImapReply> collect(BackendConnection conn, String tag,
      List<String> untagged) {
    return conn.readLine().compose(line -> {
      if (line.startsWith(tag + " ")) {
        return Future.succeededFuture(new ImapReply(untagged, line));
      }
      if (!line.startsWith("* ") || untagged.size() >= MAX_UNTAGGED) {
        return conn.failWith(new BackendLoginException(Kind.PROTOCOL, conn.target()
            + " sent an unexpected line: " + BackendLoginException.excerpt(line)));
      }
      untagged.add(line);
      return skipLiteral(conn, line).compose(v -> collect(conn, tag, untagged));
    });
  }

  /** A line ending in {@code {n}} is followed by n bytes and then the rest of the response. */
  private static Future<Void> skipLiteral(BackendConnection conn, String line) {
    long n = ImapLines.literalAtEnd(line);
    if (n < 0) {
      return Future.succeededFuture();
    }
    return conn.skip(n).compose(v -> conn.readLine()).compose(rest -> skipLiteral(conn, rest));
  }
}
