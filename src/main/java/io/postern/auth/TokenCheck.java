package io.postern.auth;

import io.vertx.core.json.JsonObject;

/**
 * What a bearer-token verifier found. Texts are for the log: they say which check failed and
 * never hold the token.
 */
sealed interface TokenCheck {

  /** The token is good; {@code claims} are what its issuer says about it (verified). */
  record Valid(JsonObject claims) implements TokenCheck {}

  /** The token is not good: {@code why} names the check it failed. */
  record Invalid(String why) implements TokenCheck {}

  /** The token cannot be checked now (no keys, introspection endpoint down or slow). */
  record Unavailable(String why) implements TokenCheck {}
}
