package io.postern.listener;

import io.vertx.core.net.NetServer;
import java.lang.reflect.Field;

/**
 * Works around a Vert.x 5.0.x defect (seen in 5.0.10 and 5.0.12): when several verticle instances
 * listen on one port, only the first builds the TLS context manager, and sockets accepted by the
 * others get none, so {@code upgradeToSsl} (STARTTLS) fails with a NullPointerException. The other
 * instances adopt the first one's manager here. Drop this class once Vert.x passes
 * {@code actualServer.sslContextManager} to shared workers.
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
