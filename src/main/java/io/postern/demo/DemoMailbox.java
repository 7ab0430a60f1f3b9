package io.postern.demo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tiny in-JVM IMAP and POP3 server holding a few fixed messages for one user, so that {@code
 * --demo} can show Postern working without any other mail server.
 *
 * <p>It speaks plaintext on loopback only; Postern in front of it does TLS and authentication.
 * Every connection starts from the same messages, and nothing a client changes outlives it.
 */
public final class DemoMailbox {

  public static final String USER = "demo";
  public static final String PASSWORD = "demo";

  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

  private static final Logger LOG = LoggerFactory.getLogger(DemoMailbox.class);
  private static final String HOST = "127.0.0.1";

  private final NetServer imap;
  private final NetServer pop3;

  private DemoMailbox(NetServer imap, NetServer pop3) {
    this.imap = imap;
    this.pop3 = pop3;
  }

  /** Starts IMAP and POP3 listeners on 127.0.0.1, ephemeral ports. Never blocks. */
  public static Future<DemoMailbox> start(Vertx vertx) {
    return start(vertx, IDLE_TIMEOUT);
  }

  static Future<DemoMailbox> start(Vertx vertx, Duration idleTimeout) {
    NetServerOptions options =
        new NetServerOptions()
            .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, idleTimeout.toMillis()))
            .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    NetServer imap =
        vertx.createNetServer(options).connectHandler(s -> new DemoImapSession(s).start());
    NetServer pop3 =
        vertx.createNetServer(options).connectHandler(s -> new DemoPop3Session(s).start());
    return Future.all(imap.listen(0, HOST), pop3.listen(0, HOST))
        .map(v -> new DemoMailbox(imap, pop3))
        .onSuccess(
            m ->
                LOG.info(
                    "Demo mailbox for user '{}' listening on {} (IMAP port {}, POP3 port {})",
                    USER,
                    HOST,
                    m.imapPort(),
                    m.pop3Port()))
        .recover(
            failure ->
                Future.all(imap.close(), pop3.close())
                    .transform(ignored -> Future.<DemoMailbox>failedFuture(failure)));
  }

  public int imapPort() {
    return imap.actualPort();
  }

  public int pop3Port() {
    return pop3.actualPort();
  }

  /** Stops both listeners and closes their open connections. */
  public Future<Void> close() {
    return Future.all(imap.close(), pop3.close()).mapEmpty();
  }
}
