package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.backend.Route;
import io.postern.config.TlsMode;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reading an nginx {@code auth_http} answer. Only a clear {@code OK} with a usable destination
 * logs a user in; a clear refusal is a failure; everything else is malformed (a temporary
 * failure for the client, never a login).
 */
class AuthHttpAnswerTest {

  private static final Set<String> BACKENDS = Set.of("default", "archive");
  private static final Credentials CLIENT = new Credentials("alice", Secret.of("client-pw"));

  private static MultiMap headers(String... kv) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < kv.length; i += 2) {
      m.add(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static AuthHttpAnswer parse(String... kv) {
    return AuthHttpAnswer.parse(headers(kv), CLIENT, BACKENDS);
  }

  private static AuthResult.Accepted accepted(AuthHttpAnswer answer) {
    assertThat(answer).isInstanceOf(AuthHttpAnswer.Ok.class);
    return ((AuthHttpAnswer.Ok) answer).accepted();
  }

  private static void assertMalformed(AuthHttpAnswer answer) {
    assertThat(answer).isInstanceOf(AuthHttpAnswer.Malformed.class);
    assertThat(((AuthHttpAnswer.Malformed) answer).why()).isNotBlank()
        .doesNotContain("client-pw");
  }

  // --- OK ----------------------------------------------------------------------------------

  @Test
  void okWithAnIpAddressShouldRouteThereInPlaintextWithTheClientsCredentials() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Server", "198.51.100.1",
        "Auth-Port", "143"));
    assertThat(a.route()).isEqualTo(new Route("default", "198.51.100.1", 143, TlsMode.NONE));
    assertThat(a.backendUser()).isEqualTo("alice");
    assertThat(a.backendPassword()).isEqualTo(Secret.of("client-pw"));
  }

  @Test
  void okWithAHostNameShouldRouteToThatName() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Server",
        "imap-7.mail.example.net", "Auth-Port", "993"));
    assertThat(a.route().host()).isEqualTo("imap-7.mail.example.net");
    assertThat(a.route().port()).isEqualTo(993);
  }

  @Test
  void okWithABracketedIpv6AddressShouldRouteToTheBareAddress() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Server", "[2001:db8::25]",
        "Auth-Port", "110"));
    assertThat(a.route().host()).isEqualTo("2001:db8::25");
    assertThat(a.route().port()).isEqualTo(110);
  }

  @Test
  void okWithABareIpv6AddressShouldRouteThereToo() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Server", "::1",
        "Auth-Port", "143"));
    assertThat(a.route().host()).isEqualTo("::1");
  }

  @Test
  void headerNamesAndSurroundingSpaceShouldNotMatter() {
    AuthResult.Accepted a = accepted(parse("auth-status", " OK ", "AUTH-SERVER", " 10.0.0.7 ",
        "auth-port", " 1143 "));
    assertThat(a.route().host()).isEqualTo("10.0.0.7");
    assertThat(a.route().port()).isEqualTo(1143);
  }

  @Test
  void okWithoutServerShouldUseTheConfiguredDefaultBackendAsConfigured() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK"));
    assertThat(a.route()).isEqualTo(Route.to("default"));
  }

  @Test
  void okNamingAConfiguredBackendShouldRouteToItAsConfigured() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Backend", "archive"));
    assertThat(a.route()).isEqualTo(Route.to("archive"));
  }

  @Test
  void okNamingABackendAndAServerShouldKeepTheBackendsTlsUnlessTold() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Backend", "archive",
        "Auth-Server", "10.1.1.1", "Auth-Port", "143"));
    assertThat(a.route()).isEqualTo(new Route("archive", "10.1.1.1", 143, null));
  }

  @Test
  void okNamingAnUnknownBackendShouldBeMalformed() {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Backend", "nosuch"));
    assertMalformed(parse("Auth-Status", "OK", "Auth-Backend", "nosuch",
        "Auth-Server", "10.0.0.1", "Auth-Port", "143"));
  }

  @Test
  void authServerTlsShouldSetTheBackendTlsMode() {
    assertThat(accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "993",
        "Auth-Server-TLS", "implicit")).route().tls()).isEqualTo(TlsMode.IMPLICIT);
    assertThat(accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "143",
        "Auth-Server-TLS", "starttls")).route().tls()).isEqualTo(TlsMode.STARTTLS);
    assertThat(accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "143",
        "Auth-Server-TLS", "none")).route().tls()).isEqualTo(TlsMode.NONE);
    assertThat(accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "993",
        "Auth-Server-TLS", " Implicit ")).route().tls()).isEqualTo(TlsMode.IMPLICIT);
    assertThat(accepted(parse("Auth-Status", "OK", "Auth-Backend", "archive",
        "Auth-Server-TLS", "starttls")).route()).isEqualTo(
        new Route("archive", null, null, TlsMode.STARTTLS));
  }

  @ParameterizedTest
  @ValueSource(strings = {"yes", "tls", "ssl", "", "on"})
  void anUnknownAuthServerTlsShouldBeMalformed(String value) {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "993",
        "Auth-Server-TLS", value));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "70000", "65536", "-1", "abc", "143x", "", "1e3", "99999999999"})
  void anAuthPortThatIsNoPortShouldBeMalformed(String port) {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", port));
  }

  @Test
  void anAuthServerWithoutAuthPortShouldBeMalformed() {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1"));
  }

  @Test
  void theExtremePortsShouldBeAccepted() {
    assertThat(accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "1"))
        .route().port()).isEqualTo(1);
    assertThat(accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1",
        "Auth-Port", "65535")).route().port()).isEqualTo(65535);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "host name", "-bad.example", "http://10.0.0.1/", "host;rm", "[]"})
  void anAuthServerThatIsNoHostOrAddressShouldBeMalformed(String server) {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", server, "Auth-Port", "143"));
  }

  /**
   * Only hex digits, colons and dots, but no address: an address with a port, and unbalanced
   * brackets ("[::1" would become "::", the unspecified address, which reaches this very host).
   * Neither brackets inside brackets nor a zone (nginx takes none either; found by
   * AuthHttpAnswerFuzzTest: "[[::1]]" came out as "[::1]", "::1%a b" as it stood).
   */
  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.1:143", "[::1", "::1]", "[2001:db8::1", ".::1", ":::1",
      "1:2:3:4:5:6:7:8:9", "::ffff:999.1.1.1", "[10.0.0.1]", "[[::1]]", "::1%eth0",
      "[fe80::1%eth0]", "::1%a b"})
  void anAuthServerThatOnlyLooksLikeAnAddressShouldBeMalformed(String server) {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", server, "Auth-Port", "143"));
  }

  // --- rewriting user and password ---------------------------------------------------------

  @Test
  void authUserAndAuthPassShouldReplaceWhatTheBackendIsSent() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1",
        "Auth-Port", "143", "Auth-User", "alice@store-3", "Auth-Pass", "master pass %20"));
    assertThat(a.backendUser()).isEqualTo("alice@store-3");
    // Not %-decoded: nginx sends the answer's value as it is.
    assertThat(a.backendPassword()).isEqualTo(Secret.of("master pass %20"));
  }

  @Test
  void utf8BytesInAuthUserAndAuthPassShouldBeReadAsUtf8() {
    // The HTTP layer hands header bytes over as one ISO-8859-1 char each.
    String userOnTheWire = new String("jörg".getBytes(StandardCharsets.UTF_8),
        StandardCharsets.ISO_8859_1);
    String passOnTheWire = new String("pässwörd€".getBytes(StandardCharsets.UTF_8),
        StandardCharsets.ISO_8859_1);
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1",
        "Auth-Port", "143", "Auth-User", userOnTheWire, "Auth-Pass", passOnTheWire));
    assertThat(a.backendUser()).isEqualTo("jörg");
    assertThat(a.backendPassword().bytes()).isEqualTo(
        "pässwörd€".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aNonUtf8AuthPassShouldReachTheBackendAsItsRawBytes() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Pass", "p\u00e4ss"));
    assertThat(a.backendPassword().bytes()).isEqualTo(new byte[] {'p', (byte) 0xe4, 's', 's'});
  }

  @ParameterizedTest
  @ValueSource(strings = {"a\rb", "a\nb", "a\u0000b", "bob\r\nA2 DELETE INBOX"})
  void lineBreaksOrNulInAuthUserOrAuthPassShouldBeMalformed(String value) {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "143",
        "Auth-User", value));
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "143",
        "Auth-Pass", value));
  }

  @Test
  void anEmptyAuthUserShouldBeMalformed() {
    assertMalformed(parse("Auth-Status", "OK", "Auth-User", ""));
  }

  // --- failure, WAIT, garbage --------------------------------------------------------------

  @Test
  void anyOtherStatusTextShouldBeAFailureWithoutExtraWait() {
    AuthHttpAnswer answer = parse("Auth-Status", "Invalid login or password");
    assertThat(answer).isEqualTo(new AuthHttpAnswer.Failed("Invalid login or password",
        Duration.ZERO));
  }

  @Test
  void aFailureWithAuthWaitShouldAskForThatManySecondsMore() {
    assertThat(parse("Auth-Status", "Invalid login or password", "Auth-Wait", "3"))
        .isEqualTo(new AuthHttpAnswer.Failed("Invalid login or password", Duration.ofSeconds(3)));
    assertThat(parse("Auth-Status", "Go away", "Auth-Wait", "0"))
        .isEqualTo(new AuthHttpAnswer.Failed("Go away", Duration.ZERO));
  }

  @Test
  void aHugeAuthWaitShouldBeCappedAtAMinute() {
    assertThat(parse("Auth-Status", "No", "Auth-Wait", "86400"))
        .isEqualTo(new AuthHttpAnswer.Failed("No", Duration.ofSeconds(60)));
  }

  @Test
  void aFailureShouldIgnoreDestinationHeadersItCarries() {
    assertThat(parse("Auth-Status", "Nope", "Auth-Server", "10.0.0.1", "Auth-Port", "143"))
        .isInstanceOf(AuthHttpAnswer.Failed.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"soon", "-1", "2.5", "1s", "99999999999999999999"})
  void anAuthWaitThatIsNoNumberOfSecondsShouldBeMalformed(String wait) {
    assertMalformed(parse("Auth-Status", "Invalid login", "Auth-Wait", wait));
    assertMalformed(parse("Auth-Status", "WAIT", "Auth-Wait", wait));
  }

  @Test
  void waitShouldAskAgainAfterAuthWaitOrOneSecond() {
    assertThat(parse("Auth-Status", "WAIT", "Auth-Wait", "4"))
        .isEqualTo(new AuthHttpAnswer.Wait(Duration.ofSeconds(4)));
    assertThat(parse("Auth-Status", "WAIT"))
        .isEqualTo(new AuthHttpAnswer.Wait(Duration.ofSeconds(1)));
    assertThat(parse("Auth-Status", "WAIT", "Auth-Wait", "0"))
        .isEqualTo(new AuthHttpAnswer.Wait(Duration.ofSeconds(1)));
  }

  @Test
  void noAuthStatusShouldBeMalformedWhateverElseIsThere() {
    assertMalformed(parse());
    assertMalformed(parse("Auth-Server", "10.0.0.1", "Auth-Port", "143"));
    assertMalformed(parse("Content-Type", "text/html"));
  }

  @Test
  void statusWordsShouldBeMatchedExactlyAsNginxDoes() {
    // nginx compares "OK" and "WAIT" case-sensitively; anything else is a failure text.
    assertThat(parse("Auth-Status", "ok", "Auth-Server", "10.0.0.1", "Auth-Port", "143"))
        .isInstanceOf(AuthHttpAnswer.Failed.class);
    assertThat(parse("Auth-Status", "OKAY")).isInstanceOf(AuthHttpAnswer.Failed.class);
  }

  // --- repeated headers ----------------------------------------------------------------------

  @Test
  void aYesAndANoInOneAnswerShouldBeANoWhicheverComesFirst() {
    for (String[] order : new String[][] {{"OK", "Invalid login"}, {"Invalid login", "OK"},
        {"WAIT", "Invalid login"}, {"Invalid login", "WAIT"}}) {
      AuthHttpAnswer answer = parse("Auth-Status", order[0], "Auth-Status", order[1],
          "Auth-Server", "10.0.0.1", "Auth-Port", "143");
      assertThat(answer).isInstanceOf(AuthHttpAnswer.Failed.class);
      assertThat(((AuthHttpAnswer.Failed) answer).text()).isEqualTo("Invalid login");
    }
  }

  @Test
  void aYesAndAWaitInOneAnswerShouldBeAWait() {
    assertThat(parse("Auth-Status", "OK", "Auth-Status", "WAIT", "Auth-Wait", "2"))
        .isEqualTo(new AuthHttpAnswer.Wait(Duration.ofSeconds(2)));
    assertThat(parse("Auth-Status", "WAIT", "Auth-Status", "OK"))
        .isInstanceOf(AuthHttpAnswer.Wait.class);
  }

  @Test
  void okWithTwoDifferentServersUsersOrPasswordsShouldBeMalformed() {
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Server",
        "10.0.0.2", "Auth-Port", "143"));
    assertMalformed(parse("Auth-Status", "OK", "Auth-Server", "10.0.0.1", "Auth-Port", "143",
        "auth-port", "110"));
    assertMalformed(parse("Auth-Status", "OK", "Auth-User", "alice", "Auth-User", "root"));
    assertMalformed(parse("Auth-Status", "OK", "Auth-Pass", "a", "Auth-Pass", "b"));
    assertMalformed(parse("Auth-Status", "OK", "Auth-Backend", "default", "Auth-Backend",
        "archive"));
  }

  @Test
  void aHeaderRepeatedWithTheSameValueShouldStillBeRead() {
    AuthResult.Accepted a = accepted(parse("Auth-Status", "OK", "Auth-Status", "OK",
        "Auth-Server", "10.0.0.1", "Auth-Server", " 10.0.0.1", "Auth-Port", "143"));
    assertThat(a.route()).isEqualTo(new Route("default", "10.0.0.1", 143, TlsMode.NONE));
  }
}
