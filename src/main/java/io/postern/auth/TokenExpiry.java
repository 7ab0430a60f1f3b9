package io.postern.auth;

import io.postern.credentials.Secret;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * The {@code exp} a JWT-shaped bearer token claims, read WITHOUT checking its signature. It only
 * ever shortens how long the auth cache keeps an answer about the token (a source such as an
 * auth_http service says yes without saying until when): a forged {@code exp} can make the
 * cache forget sooner, never accept a token or keep an answer past {@code auth.cache.ttl}.
 */
final class TokenExpiry {

  /** The year 9999: a later exp is taken as none. */
  private static final double MAX_EXP = 253_402_300_800d;

  private TokenExpiry() {}

  /** The claimed expiry, or null when the token is no JWT or claims none. */
  static Instant claimed(Secret token) {
    String text = token.text();
    int first = text.indexOf('.');
    int second = first < 0 ? -1 : text.indexOf('.', first + 1);
    if (second < 0 || text.indexOf('.', second + 1) >= 0) {
      return null;
    }
    try {
      byte[] payload = Base64.getUrlDecoder().decode(text.substring(first + 1, second));
      Object exp = new JsonObject(new String(payload, StandardCharsets.UTF_8)).getValue("exp");
      // Beyond these an exp is no date (Instant's range, or a number longValue() wraps): it
      // claims nothing.
      if (!(exp instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() < MAX_EXP)) {
        return null;
      }
      return Instant.ofEpochSecond(n.longValue());
    } catch (IllegalArgumentException | DecodeException | ClassCastException e) {
      // Not base64url, not a JSON object: an opaque token, which claims nothing.
      return null;
    }
  }
}
