package io.postern.auth;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The headers of one nginx {@code auth_http} request, as nginx's mail module writes them, in its
 * order: method, user and password (%-escaped the nginx way), protocol, attempt, client address
 * and the TLS facts, then the configured extra headers.
 */
final class AuthHttpRequest {

  private AuthHttpRequest() {}

  static Map<String, String> headers(AuthRequest request, Map<String, String> extra) {
    Map<String, String> h = new LinkedHashMap<>();
    // Postern offers only mechanisms that carry the password itself, as nginx's "plain" does.
    h.put("Auth-Method", "plain");
    h.put("Auth-User", escape(request.credentials().user().getBytes(StandardCharsets.UTF_8)));
    h.put("Auth-Pass", escape(request.credentials().password().bytes()));
    h.put("Auth-Protocol", request.protocol().id().toLowerCase(Locale.ROOT));
    h.put("Auth-Login-Attempt", String.valueOf(request.attempt()));
    h.put("Client-IP", request.clientIp());
    if (request.secured()) {
      h.put("Auth-SSL", "on");
      h.put("Auth-SSL-Protocol", request.tlsProtocol());
      if (request.tlsCipher() != null) {
        h.put("Auth-SSL-Cipher", request.tlsCipher());
      }
    }
    h.putAll(extra);
    return h;
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
