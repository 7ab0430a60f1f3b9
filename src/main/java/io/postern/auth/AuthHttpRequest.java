package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The headers of one nginx {@code auth_http} request, as nginx's mail module writes them, in its
 * order: method ({@code plain}, or {@code xoauth2}/{@code oauthbearer} with the bearer token as
 * the password), user and password (%-escaped the nginx way), protocol, attempt, client address
 * and the TLS facts, then the configured extra headers.
 */
final class AuthHttpRequest {

  /** Java's names of the TLS 1.2 suites Postern offers, and OpenSSL's, which nginx sends. */
  private static final Map<String, String> OPENSSL_NAMES = Map.of(
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305");

  private AuthHttpRequest() {}

  static Map<String, String> headers(AuthRequest request, Map<String, String> extra) {
    Map<String, String> h = new LinkedHashMap<>();
    // Passwords come as nginx's "plain"; a bearer token names its mechanism in lower case,
    // with the token in Auth-Pass, as nginx's derivatives send it.
    h.put("Auth-Method", request.bearerToken()
        ? request.secretMechanism().name().toLowerCase(Locale.ROOT) : "plain");
    h.put("Auth-User", escape(request.credentials().user().getBytes(StandardCharsets.UTF_8)));
    h.put("Auth-Pass", escape(request.credentials().password().bytes()));
    h.put("Auth-Protocol", request.protocol().id().toLowerCase(Locale.ROOT));
    h.put("Auth-Login-Attempt", String.valueOf(request.attempt()));
    h.put("Client-IP", request.clientIp());
    if (request.secured()) {
      h.put("Auth-SSL", "on");
      h.put("Auth-SSL-Protocol", request.tlsProtocol());
      if (request.tlsCipher() != null) {
        h.put("Auth-SSL-Cipher", opensslName(request.tlsCipher()));
      }
      clientCertificate(h, request.clientCertificate());
    }
    if (request.external()) {
      // nginx's EXTERNAL: no password; the service decides from the certificate's headers.
      h.put("Auth-Method", "external");
    }
    h.putAll(extra);
    return h;
  }

  /**
   * nginx's certificate headers ({@code ssl_verify_client} on or optional). The values are
   * printable ASCII by construction (RFC 2253 escapes, hex), so none can end the header.
   */
  private static void clientCertificate(Map<String, String> h, ClientCertificate cert) {
    if (cert == null) {
      return;
    }
    h.put("Auth-SSL-Verify", cert.verify());
    if (cert.subject() != null) {
      h.put("Auth-SSL-Subject", cert.subject());
      h.put("Auth-SSL-Issuer", cert.issuer());
      h.put("Auth-SSL-Serial", cert.serial());
      h.put("Auth-SSL-Fingerprint", cert.fingerprint());
    }
  }

  /**
   * The cipher as nginx names it (OpenSSL's name), so that a service matching on it works
   * unchanged; TLS 1.3 suites have the same name in both.
   */
  static String opensslName(String javaName) {
    return OPENSSL_NAMES.getOrDefault(javaName, javaName);
  }

  /**
   * nginx's {@code NGX_ESCAPE_MAIL_AUTH}: space, {@code %} and control bytes become {@code %XX}
   * (DEL too, which may not appear in a header), other bytes pass unchanged. The result holds
   * one char per byte, so the HTTP client writes exactly these bytes.
   */
  static String escape(byte[] raw) {
    StringBuilder out = new StringBuilder(raw.length + 8);
    for (byte b : raw) {
      int c = b & 0xff;
      if (c <= 0x20 || c == '%' || c == 0x7f) {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      } else {
        out.append((char) c);
      }
    }
    return out.toString();
  }
}
