package io.postern.it;

import jakarta.mail.NoSuchProviderException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Properties;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Jakarta Mail (Eclipse Angus Mail, the implementation the jakarta.mail bundle carries) as a
 * mail client: one {@link Session} per connection kind, trusting only the given certificate and
 * checking the server's name, with its protocol debug output ({@code mail.debug}) kept so a test
 * can see which commands the client chose to send.
 */
final class JakartaMail {

  private final Session session;
  private final String protocol;
  private final ByteArrayOutputStream debug = new ByteArrayOutputStream();

  private JakartaMail(Session session, String protocol) {
    this.session = session;
    this.protocol = protocol;
    session.setDebug(true);
    session.setDebugOut(new PrintStream(debug, true, StandardCharsets.UTF_8));
  }

  /**
   * A session for {@code protocol} ({@code imap}, {@code imaps}, {@code pop3}, {@code pop3s}) on
   * 127.0.0.1:{@code port}; with {@code trusted} (a PEM file) the connection is TLS (implicit for
   * imaps/pop3s, STARTTLS required otherwise), without it plaintext.
   */
  static JakartaMail session(String protocol, int port, Path trusted) throws Exception {
    Properties props = new Properties();
    String p = "mail." + protocol + ".";
    props.put(p + "host", "127.0.0.1");
    props.put(p + "port", String.valueOf(port));
    props.put(p + "connectiontimeout", "30000");
    props.put(p + "timeout", "60000");
    if (trusted != null) {
      props.put(p + "ssl.socketFactory", trustingOnly(trusted).getSocketFactory());
      props.put(p + "ssl.checkserveridentity", "true");
      if (!protocol.endsWith("s")) {
        props.put(p + "starttls.enable", "true");
        props.put(p + "starttls.required", "true");
      }
    }
    return new JakartaMail(Session.getInstance(props), protocol);
  }

  /** A store for the session's protocol, not yet connected. */
  Store store() throws NoSuchProviderException {
    return session.getStore(protocol);
  }

  /** Everything Jakarta Mail's debug output held so far: the protocol exchange, client and server. */
  String debugOutput() {
    return debug.toString(StandardCharsets.UTF_8);
  }

  private static SSLContext trustingOnly(Path pem) throws Exception {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(pem)) {
      store.setCertificateEntry("server", CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
    }
    TrustManagerFactory trust = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }
}
