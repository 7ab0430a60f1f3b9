package io.postern.listener;

import io.vertx.core.net.NetServer;
import java.lang.reflect.Field;

/**
 * Works around a Vert.x 5.0.x defect (seen in 5.0.10 and 5.0.12): when several verticle instances
 * listen on one port, only the first builds the TLS context manager, and sockets accepted by the
 * others get none, so {@code upgradeToSsl} (STARTTLS) fails with a NullPointerException. The other
 * instances adopt the first one's manager here. {@code SharedServerTlsTest} fails once Vert.x is
 * fixed: then delete this class.
 *
 * <p>The report to file at https://github.com/eclipse-vertx/vert.x/issues (not yet filed):
 *
 * <pre>
 * Title: NetSocket.upgradeToSsl throws NullPointerException on sockets accepted by every
 *        instance of a shared NetServer but the first
 *
 * Version: Vert.x 5.0.10 and 5.0.12, OpenJDK 17, Linux x86_64.
 *
 * Context: a STARTTLS server (IMAP, POP3, SMTP) deployed with DeploymentOptions.setInstances(n),
 * n > 1. NetServerOptions.ssl is false (TLS starts later, per connection), and every instance
 * listens on the same port, so Vert.x shares one server between them.
 *
 * Reproducer: a verticle whose start() does
 *     vertx.createNetServer()
 *         .connectHandler(s -&gt; s.upgradeToSsl(new ServerSSLOptions().setKeyCertOptions(keys),
 *             Buffer.buffer()))
 *         .listen(1143, "127.0.0.1");
 * deployed with setInstances(2); then open four TCP connections to 127.0.0.1:1143.
 *
 * Expected: upgradeToSsl starts a TLS handshake on every connection.
 * Actual: on the connections handed to the second instance it throws
 *     java.lang.NullPointerException: Cannot invoke "io.vertx.core.internal.tls.SslContextManager
 *     .resolveSslContextProvider(...)" because "this.sslContextManager" is null
 *       at io.vertx.core.net.impl.NetSocketImpl.sslUpgrade(NetSocketImpl.java:350)
 *       at io.vertx.core.net.impl.NetSocketImpl.upgradeToSsl(NetSocketImpl.java:318)
 *
 * Cause: NetServerImpl.listen sets its sslContextManager field only on the instance that binds
 * the port (the actual server). An instance that joins an existing server keeps null, and the
 * sockets it accepts take their manager from it.
 *
 * Suggested fix: when an instance joins a shared server, use actualServer.sslContextManager (or
 * set the field from it). Workaround: copy the field from actualServer by reflection after
 * listen() succeeded.
 * </pre>
 */
final class SharedServerTls {

  private SharedServerTls() {}

  /** Call right after {@code listen} succeeded, on the instance's own event loop. */
  static void adopt(NetServer server) {
    try {
      Class<?> impl = Class.forName("io.vertx.core.net.impl.NetServerImpl");
      if (!impl.isInstance(server)) {
        return;
      }
      Field manager = impl.getDeclaredField("sslContextManager");
      Field actual = impl.getDeclaredField("actualServer");
      manager.setAccessible(true);
      actual.setAccessible(true);
      Object main = actual.get(server);
      if (main != null && main != server && manager.get(server) == null) {
        manager.set(server, manager.get(main));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException("cannot share the TLS context between listener instances"
          + " (Vert.x internals changed?): " + e, e);
    }
  }
}
