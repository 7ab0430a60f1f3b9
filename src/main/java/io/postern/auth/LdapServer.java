package io.postern.auth;

import com.unboundid.ldap.sdk.BindRequest;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPConnectionPool;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.PostConnectProcessor;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SingleServerSet;
import com.unboundid.ldap.sdk.StartTLSPostConnectProcessor;
import io.postern.config.LdapUrls;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;

/**
 * One LDAP server and its two pools of connections, made on first use (a server that is down
 * at start-up does not stop Postern): {@code search} connections are bound as the service
 * account (or anonymous), {@code bind} connections carry the users' binds. Blocking: used on
 * the LDAP worker threads only.
 */
final class LdapServer implements AutoCloseable {

  /** What a step does with one pooled connection. */
  @FunctionalInterface
  interface Step<T> {
    T run(LDAPConnection connection) throws LDAPException;
  }

  private final LdapUrls.Server server;
  private final SocketFactory sockets;
  private final SSLSocketFactory startTls;
  private final LDAPConnectionOptions options;
  private final BindRequest serviceBind;
  private final int poolSize;
  private final long waitMillis;
  private LDAPConnectionPool searchPool;
  private LDAPConnectionPool bindPool;
  private boolean closed;

  /**
   * {@code sockets} connects (TLS for ldaps://); {@code startTls}, when not null, upgrades a
   * plain connection before anything else is sent; {@code serviceBind} (null: anonymous) binds
   * the search connections.
   */
  LdapServer(LdapUrls.Server server, SocketFactory sockets, SSLSocketFactory startTls,
      LDAPConnectionOptions options, BindRequest serviceBind, int poolSize, long waitMillis) {
    this.server = server;
    this.sockets = sockets;
    this.startTls = startTls;
    this.options = options;
    this.serviceBind = serviceBind;
    this.poolSize = poolSize;
    this.waitMillis = waitMillis;
  }

  String url() {
    return server.url();
  }

  /** Runs {@code step} on a search connection (bound as the service account). */
  <T> T search(Step<T> step) throws LDAPException {
    return withConnection(pool(true), step);
  }

  /** Runs {@code step} on a connection for users' binds (bound as whoever bound last). */
  <T> T bind(Step<T> step) throws LDAPException {
    return withConnection(pool(false), step);
  }

  /**
   * A connection whose server failed it is dropped, not returned: the pool makes a new one. A
   * server that closed an idle connection (a restart, an idle limit) gets a second try on a
   * fresh connection, so that only a server that is really down counts as down.
   */
  private <T> T withConnection(LDAPConnectionPool pool, Step<T> step) throws LDAPException {
    for (int attempt = 1; ; attempt++) {
      LDAPConnection connection = pool.getConnection();
      try {
        T result = step.run(connection);
        pool.releaseConnection(connection);
        return result;
      } catch (LDAPException e) {
        if (e.getResultCode().isConnectionUsable()) {
          pool.releaseConnection(connection);
          throw e;
        }
        pool.releaseDefunctConnection(connection);
        if (attempt > 1 || e.getResultCode() != ResultCode.SERVER_DOWN) {
          throw e;
        }
      } catch (LdapEntryAnswer.Unroutable e) {
        pool.releaseConnection(connection);
        throw e;
      } catch (RuntimeException e) {
        pool.releaseDefunctConnection(connection);
        throw e;
      }
    }
  }

  private synchronized LDAPConnectionPool pool(boolean search) throws LDAPException {
    if (closed) {
      throw new LDAPException(ResultCode.LOCAL_ERROR, "the LDAP source is closed");
    }
    LDAPConnectionPool pool = search ? searchPool : bindPool;
    if (pool != null && !pool.isClosed()) {
      return pool;
    }
    PostConnectProcessor upgrade = startTls == null ? null
        : new StartTLSPostConnectProcessor(startTls);
    // One connection now, so that a server that is down says so; the rest as logins need them.
    pool = new LDAPConnectionPool(new SingleServerSet(server.host(), server.port(), sockets,
        options), search ? serviceBind : null, 1, poolSize, upgrade);
    pool.setConnectionPoolName("postern-ldap " + server.url() + (search ? " search" : " bind"));
    pool.setCreateIfNecessary(true);
    pool.setMaxWaitTimeMillis(waitMillis);
    if (search) {
      searchPool = pool;
    } else {
      bindPool = pool;
    }
    return pool;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (searchPool != null) {
      searchPool.close();
    }
    if (bindPool != null) {
      bindPool.close();
    }
  }
}
