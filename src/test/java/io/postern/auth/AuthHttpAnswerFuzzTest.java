package io.postern.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.postern.backend.Route;
import io.postern.config.PosternConfig;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Fuzzes the reading of an nginx {@code auth_http} answer: any set of headers, repeated and in
 * any case, with values as HTTP carries them (ISO-8859-1). A login is only ever accepted on an
 * unanimous {@code OK} without contradicting headers, and then leads only to a configured
 * backend, a host name or bare IP address, a real port, and a user and password that fit on a
 * mail protocol line; waits stay within a minute; and the reason for refusing an answer is one of
 * Postern's own texts, never a value the service sent.
 */
class AuthHttpAnswerFuzzTest {

  private static final Set<String> BACKENDS = Set.of(PosternConfig.DEFAULT_BACKEND, "archive");
  private static final String[] NAMES = {"Auth-Status", "auth-status", "Auth-Server",
      "Auth-Port", "AUTH-PORT", "Auth-User", "Auth-Pass", "Auth-Wait", "Auth-Backend",
      "Auth-Server-TLS", "Auth-Error-Code", "X-Other"};
  private static final String[] VALUES = {"OK", " OK ", "WAIT", "Invalid login or password",
      "127.0.0.1", "::1", "[::1]", "[2001:db8::7]", "fe80::1%eth0", "mail.example.net", "143",
      "993", "0", "65536", " 5", "-1", "99999999999999999999", "none", "starttls", "implicit", "default",
      "archive", "other", "bob", "s3cret pass"};
  private static final Set<String> WHYS = Set.of("no Auth-Status header",
      "Auth-Wait is not a number of seconds", "Auth-Backend names no configured backend",
      "Auth-Server-TLS is not none, starttls or implicit", "Auth-Port is not a port number",
      "Auth-Server is not a host name or address", "Auth-Server without Auth-Port",
      "Auth-User is empty or holds a control character", "Auth-Pass holds a control character");

  @FuzzTest
  void loginsFollowOnlyAnUnanimousWellFormedOk(FuzzedDataProvider data) {
    Credentials credentials = new Credentials(data.consumeString(16),
        Secret.of(data.consumeBytes(16)));
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (int i = data.consumeInt(0, 10); i > 0; i--) {
      String name = data.consumeBoolean() ? data.pickValue(NAMES) : "Auth-" + latin1(data, 8);
      String value = data.consumeBoolean() ? data.pickValue(VALUES) : latin1(data, 48);
      headers.add(name, value);
    }

    AuthHttpAnswer answer = AuthHttpAnswer.parse(headers, credentials, BACKENDS);

    List<String> statuses = headers.getAll("Auth-Status").stream().map(String::trim).toList();
    boolean anyError = statuses.stream().anyMatch(s -> !s.equals("OK") && !s.equals("WAIT"));
    if (answer instanceof AuthHttpAnswer.Malformed malformed) {
      assertTrue(WHYS.contains(malformed.why()) || headers.names().stream()
          .anyMatch(n -> malformed.why().equals(n + " given twice with different values")),
          "a reason of Postern's own, never a value: " + malformed.why());
    } else if (answer instanceof AuthHttpAnswer.Failed failed) {
      assertTrue(anyError && statuses.contains(failed.text()), "failed with " + failed.text());
      checkDelay(failed.delay(), Duration.ZERO);
    } else if (answer instanceof AuthHttpAnswer.Wait wait) {
      assertTrue(!anyError && statuses.contains("WAIT"), "WAIT next to " + statuses);
      checkDelay(wait.delay(), Duration.ofSeconds(1));
    } else if (answer instanceof AuthHttpAnswer.Ok ok) {
      assertFalse(statuses.isEmpty());
      assertTrue(statuses.stream().allMatch("OK"::equals), "a login despite " + statuses);
      checkNoContradiction(headers);
      checkAccepted(ok.accepted(), headers, credentials);
    }
  }

  private static void checkDelay(Duration delay, Duration least) {
    assertTrue(delay.compareTo(least) >= 0 && delay.compareTo(Duration.ofSeconds(60)) <= 0,
        "a delay of " + delay);
  }

  /** Two different servers, users or passwords: which one was meant cannot be known. */
  private static void checkNoContradiction(MultiMap headers) {
    for (String name : headers.names()) {
      if (name.regionMatches(true, 0, "Auth-", 0, 5) && !name.equalsIgnoreCase("Auth-Status")) {
        Set<String> values = headers.getAll(name).stream().map(String::trim)
            .collect(Collectors.toSet());
        assertEquals(1, values.size(), name + " with different values, yet accepted");
      }
    }
  }

  private static void checkAccepted(AuthResult.Accepted accepted, MultiMap headers,
      Credentials credentials) {
    Route route = accepted.route();
    String backend = headers.get("Auth-Backend");
    assertEquals(backend == null ? PosternConfig.DEFAULT_BACKEND : backend.trim(), route.backend());
    assertTrue(BACKENDS.contains(route.backend()), "an unconfigured backend " + route.backend());
    if (headers.get("Auth-Server") != null) {
      assertNotNull(route.host());
      assertTrue(route.host().matches("[A-Za-z0-9.-]{1,253}")
          || route.host().matches("[0-9A-Fa-f:.]{2,45}") && route.host().contains(":"),
          "a backend host that is neither a name nor a bare address: " + route.host());
      assertNotNull(route.port(), "a host without a port");
      assertEquals(Integer.parseInt(headers.get("Auth-Port").trim()), route.port());
    }
    if (route.port() != null) {
      assertTrue(route.port() >= 1 && route.port() <= 65535, "port " + route.port());
    }
    String user = headers.get("Auth-User");
    if (user == null) {
      assertEquals(credentials.user(), accepted.backendUser());
    } else {
      byte[] raw = user.getBytes(StandardCharsets.ISO_8859_1);
      assertEquals(new String(raw, StandardCharsets.UTF_8), accepted.backendUser());
      assertTrue(raw.length > 0 && fitsOnALine(raw), "a user no protocol line can carry");
    }
    String pass = headers.get("Auth-Pass");
    byte[] password = accepted.backendPassword().bytes();
    if (pass == null) {
      assertArrayEquals(credentials.password().bytes(), password);
    } else {
      assertArrayEquals(pass.getBytes(StandardCharsets.ISO_8859_1), password);
      assertTrue(fitsOnALine(password), "a password no protocol line can carry");
    }
  }

  private static boolean fitsOnALine(byte[] raw) {
    for (byte b : raw) {
      if (b == 0 || b == '\r' || b == '\n') {
        return false;
      }
    }
    return true;
  }

  /** Header text as Vert.x hands it over: each byte one ISO-8859-1 character. */
  private static String latin1(FuzzedDataProvider data, int max) {
    return new String(data.consumeBytes(max), StandardCharsets.ISO_8859_1);
  }
}
