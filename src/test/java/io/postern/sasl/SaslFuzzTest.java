package io.postern.sasl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Fuzzes the SASL side of login: mechanism names, PLAIN and LOGIN exchanges with and without an
 * initial response, and their base64. Half the inputs are arbitrary exchanges, which must end in
 * a challenge, credentials or one of Postern's own error texts; the other half encode chosen
 * credentials as a client would, which must come back byte for byte (or be refused for the
 * reason PLAIN gives).
 */
class SaslFuzzTest {

  private static final Set<String> ERRORS = Set.of("Invalid base64 data.",
      "Invalid PLAIN message.", "Acting as another user is not supported.",
      "Invalid XOAUTH2 message.", "Invalid OAUTHBEARER message.",
      "Invalid EXTERNAL message.");

  @FuzzTest
  void exchangesEndInCredentialsAsSentOrInPosternsOwnError(FuzzedDataProvider data) {
    switch (data.consumeInt(0, 3)) {
      case 0 -> arbitraryExchange(data);
      case 1 -> plainRoundTrip(data);
      case 2 -> loginRoundTrip(data);
      default -> backendPlainRoundTrip(data);
    }
  }

  private static void arbitraryExchange(FuzzedDataProvider data) {
    String name = data.consumeBoolean()
        ? data.pickValue(new String[] {"PLAIN", "plain", "Login", "LOGIN", "CRAM-MD5",
            "XOAUTH2", "oauthbearer"})
        : data.consumeString(12);
    SaslMechanism mechanism = SaslMechanism.named(name);
    checkName(name, mechanism);
    if (mechanism == null) {
      return;
    }
    byte[] initial = data.consumeBoolean() ? null
        : SaslInitialResponse.bytes(data.consumeAsciiString(64));
    List<byte[]> responses = new ArrayList<>();
    for (int i = data.consumeInt(0, 3); i > 0; i--) {
      responses.add(data.consumeBytes(96));
    }
    SaslStep step = mechanism.start(initial);
    int sent = initial == null ? 0 : initial.length;
    List<String> challenges = new ArrayList<>();
    for (byte[] response : responses) {
      if (!(step instanceof SaslStep.Challenge c)) {
        break;
      }
      challenges.add(c.base64());
      step = mechanism.next(response);
      sent = Math.max(sent, response.length);
    }
    if (step instanceof SaslStep.Challenge c) {
      challenges.add(c.base64());
    }
    boolean plain = mechanism instanceof SaslPlain;
    // A bearer-token mechanism, like PLAIN and EXTERNAL, asks with an empty challenge only.
    boolean emptyChallenges = plain || mechanism instanceof SaslXoauth2
        || mechanism instanceof SaslOAuthBearer || mechanism instanceof SaslExternal;
    for (String challenge : challenges) {
      assertTrue(emptyChallenges ? challenge.isEmpty() : challenge.equals(SaslLogin.USERNAME_PROMPT)
          || challenge.equals(SaslLogin.PASSWORD_PROMPT), "an unknown challenge " + challenge);
    }
    if (step instanceof SaslStep.Malformed m) {
      assertTrue(ERRORS.contains(m.message()), "an error text of Postern's own: " + m.message());
    } else if (step instanceof SaslStep.Done done) {
      Credentials credentials = done.credentials();
      // Base64 holds 3 bytes in 4 characters: nothing decoded can outgrow what was sent.
      assertTrue(credentials.password().length() <= sent * 3 / 4 + 2, "a password out of nowhere");
      if (plain) {
        assertFalse(credentials.user().isEmpty(), "PLAIN with an empty user name");
        assertFalse(contains(credentials.password().bytes(), 0), "a PLAIN password with a NUL");
      }
      checkNotShown(credentials);
    }
  }

  /** {@code authzid NUL authcid NUL password}, as a client builds it, in the initial response or not. */
  private static void plainRoundTrip(FuzzedDataProvider data) {
    byte[] user = data.consumeBytes(24);
    byte[] password = data.consumeBytes(24);
    int authz = data.consumeInt(0, 2);
    byte[] authzid = authz == 0 ? new byte[0] : authz == 1 ? user : data.consumeBytes(8);
    boolean initialResponse = data.consumeBoolean();
    boolean padded = data.consumeBoolean();

    byte[] message = join(authzid, new byte[] {0}, user, new byte[] {0}, password);
    byte[] base64 = base64(message, padded);
    SaslMechanism plain = SaslMechanism.named("PLAIN");
    SaslStep step = initialResponse ? plain.start(base64)
        : next(plain, assertInstanceOf(SaslStep.Challenge.class, plain.start(null)), base64);

    String authcid = new String(user, StandardCharsets.UTF_8);
    if (contains(authzid, 0) || contains(user, 0) || contains(password, 0) || user.length == 0) {
      assertEquals(new SaslStep.Malformed("Invalid PLAIN message."), step);
    } else if (authzid.length > 0
        && !new String(authzid, StandardCharsets.UTF_8).equals(authcid)) {
      assertEquals(new SaslStep.Malformed("Acting as another user is not supported."), step);
    } else {
      Credentials credentials = assertInstanceOf(SaslStep.Done.class, step).credentials();
      assertEquals(authcid, credentials.user());
      assertArrayEquals(password, credentials.password().bytes(), "the password's bytes");
      checkNotShown(credentials);
    }
  }

  /** LOGIN's two prompts, the user name perhaps already in the initial response. */
  private static void loginRoundTrip(FuzzedDataProvider data) {
    byte[] user = data.consumeBytes(24);
    byte[] password = data.consumeBytes(24);
    boolean initialResponse = data.consumeBoolean();
    boolean padded = data.consumeBoolean();

    SaslMechanism login = SaslMechanism.named("login");
    SaslStep step;
    if (initialResponse) {
      step = login.start(user.length == 0 ? SaslInitialResponse.bytes("=") : base64(user, padded));
    } else {
      SaslStep first = login.start(null);
      assertEquals(new SaslStep.Challenge(SaslLogin.USERNAME_PROMPT), first);
      step = login.next(base64(user, padded));
    }
    assertEquals(new SaslStep.Challenge(SaslLogin.PASSWORD_PROMPT), step);
    step = login.next(base64(password, padded));
    Credentials credentials = assertInstanceOf(SaslStep.Done.class, step).credentials();
    assertEquals(new String(user, StandardCharsets.UTF_8), credentials.user());
    assertArrayEquals(password, credentials.password().bytes(), "the password's bytes");
    checkNotShown(credentials);
  }

  /** What Postern sends a backend (SaslPlain.encode) must read back as the same login. */
  private static void backendPlainRoundTrip(FuzzedDataProvider data) {
    String user = data.consumeString(24);
    byte[] password = data.consumeBytes(24);
    Secret secret = Secret.of(password);
    String encoded = SaslPlain.encode(user, secret);
    assertArrayEquals(password, secret.bytes(), "encode must not wipe the caller's secret");
    SaslStep step = SaslMechanism.named("PLAIN")
        .start(encoded.getBytes(StandardCharsets.US_ASCII));
    String sentUser = new String(user.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
    if (sentUser.isEmpty() || sentUser.indexOf('\0') >= 0 || contains(password, 0)) {
      assertInstanceOf(SaslStep.Malformed.class, step);
      return;
    }
    Credentials credentials = assertInstanceOf(SaslStep.Done.class, step).credentials();
    assertEquals(sentUser, credentials.user());
    assertArrayEquals(password, credentials.password().bytes());
  }

  /** A mechanism is PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER in any ASCII case, and nothing else. */
  private static void checkName(String name, SaslMechanism mechanism) {
    boolean ascii = name.chars().allMatch(c -> c < 0x80);
    String upper = name.toUpperCase(Locale.ROOT);
    if (ascii && upper.equals("PLAIN")) {
      assertInstanceOf(SaslPlain.class, mechanism);
    } else if (ascii && upper.equals("LOGIN")) {
      assertInstanceOf(SaslLogin.class, mechanism);
    } else if (ascii && upper.equals("XOAUTH2")) {
      assertInstanceOf(SaslXoauth2.class, mechanism);
    } else if (ascii && upper.equals("OAUTHBEARER")) {
      assertInstanceOf(SaslOAuthBearer.class, mechanism);
    } else if (ascii && upper.equals("EXTERNAL")) {
      assertInstanceOf(SaslExternal.class, mechanism);
    } else {
      assertNull(mechanism, "a mechanism for " + name);
    }
  }

  private static void checkNotShown(Credentials credentials) {
    String password = credentials.password().text();
    String shown = credentials.toString();
    if (password.length() >= 4 && shown.contains(password)
        && !("Credentials[user=" + credentials.user() + "]").contains(password)) {
      fail("the password shows in " + shown);
    }
  }

  private static SaslStep next(SaslMechanism mechanism, SaslStep.Challenge challenge,
      byte[] response) {
    assertEquals("", challenge.base64());
    return mechanism.next(response);
  }

  private static byte[] base64(byte[] bytes, boolean padded) {
    Base64.Encoder encoder = padded ? Base64.getEncoder() : Base64.getEncoder().withoutPadding();
    return encoder.encode(bytes);
  }

  private static byte[] join(byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    byte[] out = new byte[length];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, out, at, part.length);
      at += part.length;
    }
    return out;
  }

  private static boolean contains(byte[] bytes, int b) {
    for (byte x : bytes) {
      if (x == b) {
        return true;
      }
    }
    return false;
  }
}
