package io.postern.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Which certificate a TLS listener presents to a new handshake: its serial in hex, as
 * {@code openssl x509 -serial} prints it. Trusts anything (the test wants to see, not verify).
 */
public final class ServedCertificate {

  private ServedCertificate() {}

  /** How to get to the handshake: at once, or after IMAP STARTTLS / POP3 STLS. */
  public enum Path { IMPLICIT, IMAP_STARTTLS, POP3_STLS }

  /** A TLS connection after the handshake (and for STARTTLS, after the greeting and command). */
  public static SSLSocket connect(int port, Path path, List<String> alpn) throws IOException {
    Socket plain = new Socket(InetAddress.getLoopbackAddress(), port);
    plain.setSoTimeout(10_000);
    try {
      if (path != Path.IMPLICIT) {
        BufferedReader in = new BufferedReader(new InputStreamReader(plain.getInputStream(),
            StandardCharsets.ISO_8859_1));
        OutputStream out = plain.getOutputStream();
        readLine(in);
        out.write((path == Path.IMAP_STARTTLS ? "s STARTTLS\r\n" : "STLS\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String ok = readLine(in);
        if (!ok.startsWith(path == Path.IMAP_STARTTLS ? "s OK" : "+OK")) {
          throw new IOException("STARTTLS refused: " + ok);
        }
      }
      SSLSocket ssl = (SSLSocket) trustAll().getSocketFactory()
          .createSocket(plain, "localhost", port, true);
      ssl.setSoTimeout(10_000);
      if (!alpn.isEmpty()) {
        SSLParameters params = ssl.getSSLParameters();
        params.setApplicationProtocols(alpn.toArray(String[]::new));
        ssl.setSSLParameters(params);
      }
      ssl.startHandshake();
      return ssl;
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  /** The serial of the certificate a new handshake on {@code port} gets. */
  public static String serial(int port, Path path) throws IOException {
    try (SSLSocket ssl = connect(port, path, List.of())) {
      return serial(ssl);
    }
  }

  public static String serial(SSLSocket ssl) throws IOException {
    X509Certificate leaf = (X509Certificate) ssl.getSession().getPeerCertificates()[0];
    return leaf.getSerialNumber().toString(16).toUpperCase(Locale.ROOT);
  }

  /** The serial of the first certificate in a PEM file. */
  public static String serial(java.nio.file.Path pem) throws Exception {
    try (var in = java.nio.file.Files.newInputStream(pem)) {
      X509Certificate cert = (X509Certificate) java.security.cert.CertificateFactory
          .getInstance("X.509").generateCertificate(in);
      return cert.getSerialNumber().toString(16).toUpperCase(Locale.ROOT);
    }
  }

  private static String readLine(BufferedReader in) throws IOException {
    String line = in.readLine();
    if (line == null) {
      throw new IOException("closed before a line");
    }
    return line;
  }

  private static SSLContext trustAll() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      }}, null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
