package io.postern.sasl;

import io.vertx.core.json.JsonObject;

/**
 * Where a client whose token was refused can get a better one, told in OAUTHBEARER's error
 * (RFC 7628 §3.2.2): the {@code scope} the token needs and the issuer's
 * {@code openid-configuration} URL. Either may be null, and is then left out; the error's
 * {@code status} is always there.
 */
public record TokenDiscovery(String scope, String openidConfiguration) {

  /** Nothing to tell beyond the status. */
  public static final TokenDiscovery NONE = new TokenDiscovery(null, null);

  /** The OAUTHBEARER error's JSON: status first, then what is known. */
  String oauthBearerError() {
    JsonObject error = new JsonObject().put("status", "invalid_token");
    if (scope != null) {
      error.put("scope", scope);
    }
    if (openidConfiguration != null) {
      error.put("openid-configuration", openidConfiguration);
    }
    return error.encode();
  }
}
