package io.postern.bench.load;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The load generator's TLS: TLS 1.3, trusting only the proxy's certificate. {@link #full} never
 * offers a session to resume (each connection has a cache key of its own); {@link #resuming}
 * offers the ticket of the client thread's previous session, as a phone reconnecting does.
 */
final class ClientTls {

  private final SSLContext context;
  private final boolean resume;
  private final AtomicLong resumed = new AtomicLong();
  private final AtomicLong fullHandshakes = new AtomicLong();

  private ClientTls(SSLContext context, boolean resume) {
    this.context = context;
    this.resume = resume;
  }

  static ClientTls full(Path trusted) throws Exception {
    return new ClientTls(context(trusted), false);
  }

  static ClientTls resuming(Path trusted) throws Exception {
    return new ClientTls(context(trusted), true);
  }

  boolean resumes() {
    return resume;
  }

  /**
   * TLS over {@code plain} (connected to 127.0.0.1:{@code port}), handshake done. JSSE keeps one
   * TLS 1.3 ticket per host and port and uses it once, so {@code worker} names the client
   * thread: a resuming thread resumes the ticket its own last session got, and a thread's
   * handshake never takes another's ticket (which 16 threads would race for). No SNI is sent.
   */
  SSLSocket wrap(java.net.Socket plain, int port, int worker) throws java.io.IOException {
    String cacheKey = resume ? "worker" + worker : "full" + fullHandshakes.incrementAndGet();
    SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, cacheKey, port,
        true);
    SSLParameters parameters = tls.getSSLParameters();
    parameters.setProtocols(new String[] {"TLSv1.3"});
    parameters.setServerNames(List.of());
    tls.setSSLParameters(parameters);
    tls.setUseClientMode(true);
    long started = System.currentTimeMillis();
    tls.startHandshake();
    // A resumed handshake carries on the session it resumed, created before this one began.
    if (tls.getSession().getCreationTime() < started) {
      resumed.incrementAndGet();
    }
    return tls;
  }

  /** Handshakes so far that resumed a session (the proxy took a ticket). */
  long resumedHandshakes() {
    return resumed.get();
  }

  /** After a session ends: a full-handshake session is forgotten, it will never be offered. */
  void done(SSLSocket tls) {
    if (!resume) {
      tls.getSession().invalidate();
    }
  }

  private static SSLContext context(Path trusted) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(trusted)) {
      store.setCertificateEntry("proxy",
          CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLSv1.3");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }
}
