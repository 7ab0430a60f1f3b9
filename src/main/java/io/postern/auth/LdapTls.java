package io.postern.auth;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS towards the LDAP servers, for {@code ldaps://} and StartTLS alike: the server's chain is
 * verified against the {@code ca} file (or the system's CAs), and its name against the host of
 * the URL, by the JDK's own endpoint identification ({@code LDAPS}, RFC 2830's rules): a name
 * in the URL must be in the certificate, an address must be one of its IP addresses; no reverse
 * lookups. TLS 1.2 and 1.3 only.
 */
final class LdapTls {

  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private LdapTls() {}

  /** Reads {@code ca} (PEM, null: the system's CAs). Blocking. */
  static SSLSocketFactory sockets(Path ca) throws GeneralSecurityException, IOException {
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    if (ca == null) {
      trust.init((KeyStore) null);
    } else {
      KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
      anchors.load(null, null);
      Collection<? extends Certificate> certificates;
      try (InputStream in = Files.newInputStream(ca)) {
        certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
      }
      if (certificates.isEmpty()) {
        throw new GeneralSecurityException("no certificate in it");
      }
      int i = 0;
      for (Certificate certificate : certificates) {
        anchors.setCertificateEntry("ca-" + i++, certificate);
      }
      trust.init(anchors);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return new Checked(context.getSocketFactory());
  }

  /** Every socket it makes checks the server's name as the handshake verifies its chain. */
  private static final class Checked extends SSLSocketFactory {
    private final SSLSocketFactory delegate;

    Checked(SSLSocketFactory delegate) {
      this.delegate = delegate;
    }

    private static Socket checked(Socket socket) {
      if (socket instanceof SSLSocket ssl) {
        SSLParameters parameters = ssl.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("LDAPS");
        parameters.setProtocols(PROTOCOLS);
        ssl.setSSLParameters(parameters);
      }
      return socket;
    }

    @Override
    public String[] getDefaultCipherSuites() {
      return delegate.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return delegate.getSupportedCipherSuites();
    }

    @Override
    public Socket createSocket() throws IOException {
      return checked(delegate.createSocket());
    }

    @Override
    public Socket createSocket(Socket s, String host, int port, boolean autoClose)
        throws IOException {
      return checked(delegate.createSocket(s, host, port, autoClose));
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return checked(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
        throws IOException {
      return checked(delegate.createSocket(host, port, localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return checked(delegate.createSocket(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress,
        int localPort) throws IOException {
      return checked(delegate.createSocket(address, port, localAddress, localPort));
    }
  }
}
