package io.postern.sasl;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The key-value part shared by XOAUTH2 and OAUTHBEARER: {@code key=value} pairs each ended by
 * {@code ^A}, the list ended by one more {@code ^A}, with the token in
 * {@code auth=Bearer <token>}. Strict: a message that does not end where it should, repeats a
 * key, or carries a malformed bearer value is refused whole.
 */
final class BearerMessage {

  /** The separator of the pairs, {@code ^A}. */
  static final byte KVSEP = 0x01;
  static final int MAX_TOKEN_BYTES = SaslMechanism.MAX_TOKEN_BYTES;
  /** Most pairs in one message: RFC 7628 defines three keys (auth, host, port). */
  static final int MAX_PAIRS = 16;

  private BearerMessage() {}

  /** The pairs from {@code from} to the message's end, or null if they are malformed. */
  static Map<String, String> pairs(byte[] message, int from) {
    Map<String, String> pairs = new LinkedHashMap<>();
    int pos = from;
    while (pos < message.length) {
      if (message[pos] == KVSEP) {
        // The empty pair ends the list, and must end the message too.
        return pos == message.length - 1 ? pairs : null;
      }
      int end = indexOf(message, KVSEP, pos);
      int eq = indexOf(message, (byte) '=', pos);
      if (end < 0 || eq < 0 || eq > end || eq == pos || pairs.size() >= MAX_PAIRS) {
        return null;
      }
      for (int i = pos; i < eq; i++) {
        if (!isAlpha(message[i])) {
          return null;
        }
      }
      for (int i = eq + 1; i < end; i++) {
        int c = message[i] & 0xff;
        // RFC 7628 value: VCHAR / SP / HTAB / CR / LF; UTF-8 allowed in the user of XOAUTH2.
        if (c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f) {
          return null;
        }
      }
      String key = new String(message, pos, eq - pos, StandardCharsets.US_ASCII);
      String value = new String(message, eq + 1, end - eq - 1, StandardCharsets.UTF_8);
      if (pairs.putIfAbsent(key, value) != null) {
        return null;
      }
      pos = end + 1;
    }
    // The list ran out without its closing ^A.
    return null;
  }

  /**
   * The token of an {@code auth} value ({@code Bearer} and spaces, case-insensitive, then an
   * RFC 6750 b64token), or null if it is none or longer than {@link #MAX_TOKEN_BYTES}.
   */
  static String bearerToken(String auth) {
    if (auth == null || auth.length() < 8 || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    int start = 7;
    while (start < auth.length() && auth.charAt(start) == ' ') {
      start++;
    }
    String token = auth.substring(start);
    if (token.isEmpty() || token.length() > MAX_TOKEN_BYTES) {
      return null;
    }
    int i = 0;
    while (i < token.length() && isTokenChar(token.charAt(i))) {
      i++;
    }
    if (i == 0) {
      return null;
    }
    while (i < token.length() && token.charAt(i) == '=') {
      i++;
    }
    return i == token.length() ? token : null;
  }

  /** The base64 of a JSON error challenge (JSON text is UTF-8, RFC 8259 §8.1). */
  static String challenge(String json) {
    return java.util.Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static boolean isAlpha(byte b) {
    return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z';
  }

  /** RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "="s. */
  private static boolean isTokenChar(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
        || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  }
}
