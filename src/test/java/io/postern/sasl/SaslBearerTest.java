package io.postern.sasl;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.credentials.BackendCredentials;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** XOAUTH2 and OAUTHBEARER on raw bytes: what is taken, what is refused, and the refusal. */
class SaslBearerTest {

  private static final String JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

  private static byte[] b64(String s) {
    return Base64.getEncoder().encode(s.getBytes(StandardCharsets.UTF_8));
  }

  private static Credentials done(SaslStep step) {
    assertThat(step).isInstanceOf(SaslStep.Done.class);
    return ((SaslStep.Done) step).credentials();
  }

  private static String decoded(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  @Test
  void xoauth2ShouldYieldUserAndToken() {
    Credentials c = done(SaslMechanism.named("xoauth2")
        .start(b64("user=alice@example.org\u0001auth=Bearer " + JWT + "\u0001\u0001")));
    assertThat(c.user()).isEqualTo("alice@example.org");
    assertThat(c.password().text()).isEqualTo(JWT);
    assertThat(c.toString()).doesNotContain(JWT);
  }

  @Test
  void xoauth2ShouldChallengeEmptyWithoutInitialResponse() {
    SaslMechanism m = SaslMechanism.named("XOAUTH2");
    assertThat(m.start(null)).isEqualTo(new SaslStep.Challenge(""));
    assertThat(done(m.next(b64("user=bob\u0001auth=bearer  tok==\u0001\u0001"))).password()
        .text()).isEqualTo("tok==");
  }

  @Test
  void xoauth2ShouldRefuseMalformedMessages() {
    String[] bad = {
        "",                                                   // the "=" empty response
        "user=alice\u0001\u0001",                             // no auth=
        "auth=Bearer tok\u0001\u0001",                        // no user=
        "user=\u0001auth=Bearer tok\u0001\u0001",             // empty user
        "user=alice\u0001auth=Basic dG9r\u0001\u0001",        // not a bearer token
        "user=alice\u0001auth=Bearer \u0001\u0001",           // no token
        "user=alice\u0001auth=Bearer to ken\u0001\u0001",     // not a b64token
        "user=alice\u0001auth=Bearer tok=x\u0001\u0001",      // "=" inside
        "user=alice\u0001auth=Bearer tok\u0001",              // no closing ^A
        "user=alice\u0001auth=Bearer tok\u0001\u0001x",       // bytes after the end
        "user=alice\u0001auth=Bearer tok\u0001\u0001\u0001",  // one ^A too many
        "user=alice\u0001user=bob\u0001auth=Bearer tok\u0001\u0001", // repeated key
        "user=alice\u0001auth=Bearer tok\u0001host=x\u0001\u0001",   // unknown extra key
        "user=alice\u0001auth=Bearer tok\u0000\u0001\u0001",  // NUL in a value
        "user=alice\u0001=x\u0001auth=Bearer tok\u0001\u0001", // empty key
        "user=alice auth=Bearer tok",                         // spaces, not ^A
    };
    for (String message : bad) {
      assertThat(SaslMechanism.named("XOAUTH2").start(b64(message)))
          .as(message.replace('\u0001', '|')).isInstanceOf(SaslStep.Malformed.class);
    }
  }

  @Test
  void oauthBearerShouldYieldAuthzidAndToken() {
    Credentials c = done(SaslMechanism.named("OAUTHBEARER").start(b64(
        "n,a=alice@example.org,\u0001host=imap.example.org\u0001port=993\u0001auth=Bearer "
            + JWT + "\u0001\u0001")));
    assertThat(c.user()).isEqualTo("alice@example.org");
    assertThat(c.password().text()).isEqualTo(JWT);
  }

  @Test
  void oauthBearerShouldTakeAMessageWithoutAuthzid() {
    Credentials c = done(SaslMechanism.named("oauthbearer")
        .start(b64("n,,\u0001auth=Bearer " + JWT + "\u0001\u0001")));
    assertThat(c.user()).isEmpty();
    assertThat(c.password().text()).isEqualTo(JWT);
    // "y": the client supports channel binding but thinks the server does not.
    assertThat(done(SaslMechanism.named("OAUTHBEARER")
        .start(b64("y,,\u0001auth=Bearer t\u0001\u0001"))).user()).isEmpty();
  }

  @Test
  void oauthBearerShouldUnescapeTheAuthzid() {
    Credentials c = done(SaslMechanism.named("OAUTHBEARER")
        .start(b64("n,a=a=2Cb=3Dc,\u0001auth=Bearer t\u0001\u0001")));
    assertThat(c.user()).isEqualTo("a,b=c");
  }

  @Test
  void oauthBearerShouldRefuseMalformedMessages() {
    String[] bad = {
        "",                                                  // the "=" empty response
        "\u0001",                                            // the dummy response as a start
        "n,,\u0001\u0001",                                   // no auth=
        "n,,\u0001host=x\u0001\u0001",                       // still no auth=
        "n,,\u0001auth=Basic dG9r\u0001\u0001",              // not a bearer token
        "n,,\u0001auth=Bearer\u0001\u0001",                  // no token
        "p=tls-unique,,\u0001auth=Bearer t\u0001\u0001",     // channel binding
        "x,,\u0001auth=Bearer t\u0001\u0001",                // bad cbind flag
        "n,a=,\u0001auth=Bearer t\u0001\u0001",              // empty authzid
        "n,b=alice,\u0001auth=Bearer t\u0001\u0001",         // not a=
        "n,a=al=2Xice,\u0001auth=Bearer t\u0001\u0001",      // unknown escape
        "n,a=alice=,\u0001auth=Bearer t\u0001\u0001",        // cut escape
        "n,a=alice\u0001auth=Bearer t\u0001\u0001",          // header not closed
        "n,a=alice,auth=Bearer t\u0001\u0001",               // no ^A after the header
        "n,,\u0001auth=Bearer t\u0001",                      // no closing ^A
        "n,,\u0001auth=Bearer t\u0001auth=Bearer u\u0001\u0001", // repeated auth
        "n,,\u0001auth=Bearer t\u0001\u0001\u0001",          // bytes after the end
        "n,,\u0001ho-st=x\u0001auth=Bearer t\u0001\u0001",   // key not ALPHA
        "n",                                                 // cut short
    };
    for (String message : bad) {
      assertThat(SaslMechanism.named("OAUTHBEARER").start(b64(message)))
          .as(message.replace('\u0001', '|')).isInstanceOf(SaslStep.Malformed.class);
    }
  }

  @Test
  void bothShouldRefuseInvalidBase64() {
    for (String name : new String[] {"XOAUTH2", "OAUTHBEARER"}) {
      for (String bad : new String[] {"bixh!", "AQ=A", "A", "bixhPWFsaWNl,"}) {
        assertThat(SaslMechanism.named(name).start(bad.getBytes(StandardCharsets.US_ASCII)))
            .as(name + " " + bad).isEqualTo(new SaslStep.Malformed("Invalid base64 data."));
      }
    }
  }

  @Test
  void aTokenOverTheLimitShouldBeRefused() {
    String fits = "a".repeat(BearerMessage.MAX_TOKEN_BYTES);
    assertThat(SaslMechanism.named("OAUTHBEARER")
        .start(b64("n,,\u0001auth=Bearer " + fits + "\u0001\u0001")))
        .isInstanceOf(SaslStep.Done.class);
    assertThat(SaslMechanism.named("OAUTHBEARER")
        .start(b64("n,,\u0001auth=Bearer " + fits + "a\u0001\u0001")))
        .isInstanceOf(SaslStep.Malformed.class);
  }

  @Test
  void refusalsShouldCarryEachMechanismsJsonError() {
    assertThat(decoded(SaslMechanism.named("OAUTHBEARER").refusal().base64()))
        .isEqualTo("{\"status\":\"invalid_token\"}");
    assertThat(decoded(SaslMechanism.named("XOAUTH2").refusal().base64()))
        .isEqualTo("{\"status\":\"401\",\"schemes\":\"bearer\"}");
    assertThat(SaslMechanism.named("PLAIN").refusal()).isNull();
    assertThat(SaslMechanism.named("LOGIN").refusal()).isNull();
  }

  @Test
  void oauthbearersErrorShouldTellTheScopeAndDiscoveryUrlWhereConfigured() {
    TokenDiscovery discovery = new TokenDiscovery("openid email",
        "https://id.example.net/.well-known/openid-configuration");
    assertThat(decoded(SaslMechanism.named("OAUTHBEARER", discovery).refusal().base64()))
        .isEqualTo("{\"status\":\"invalid_token\",\"scope\":\"openid email\","
            + "\"openid-configuration\":\"https://id.example.net/.well-known/"
            + "openid-configuration\"}");
    assertThat(decoded(SaslMechanism.named("OAUTHBEARER", new TokenDiscovery("mail", null))
        .refusal().base64())).isEqualTo("{\"status\":\"invalid_token\",\"scope\":\"mail\"}");
    // XOAUTH2's error is Google's fixed one.
    assertThat(decoded(SaslMechanism.named("XOAUTH2", discovery).refusal().base64()))
        .isEqualTo("{\"status\":\"401\",\"schemes\":\"bearer\"}");
  }

  @Test
  void tokenMechanismsShouldBeKnownByName() {
    assertThat(SaslMechanism.carriesToken("xoauth2")).isTrue();
    assertThat(SaslMechanism.carriesToken("OAuthBearer")).isTrue();
    assertThat(SaslMechanism.carriesToken("PLAIN")).isFalse();
    assertThat(SaslMechanism.named("XOAUTH\u0032\u0131")).isNull();
  }

  @Test
  void replayShouldEncodeWhatTheDecodersTake() {
    Secret token = Secret.of(JWT);
    BackendCredentials x = new BackendCredentials(BackendCredentials.Mechanism.XOAUTH2,
        "alice", token, null);
    assertThat(decoded(BearerReplay.response(x)))
        .isEqualTo("user=alice\u0001auth=Bearer " + JWT + "\u0001\u0001");
    BackendCredentials o = new BackendCredentials(BackendCredentials.Mechanism.OAUTHBEARER,
        "a,b=c", token, null);
    Credentials back = done(new SaslOAuthBearer().start(BearerReplay.response(o)
        .getBytes(StandardCharsets.US_ASCII)));
    assertThat(back.user()).isEqualTo("a,b=c");
    assertThat(back.password()).isEqualTo(token);
    BackendCredentials nameless = new BackendCredentials(
        BackendCredentials.Mechanism.OAUTHBEARER, "", token, null);
    assertThat(decoded(BearerReplay.response(nameless)))
        .isEqualTo("n,,\u0001auth=Bearer " + JWT + "\u0001\u0001");
    assertThat(BearerReplay.afterError(o)).isEqualTo("AQ==");
    assertThat(BearerReplay.afterError(x)).isEmpty();
  }
}
