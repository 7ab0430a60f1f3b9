package io.postern.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.config.Protocol;
import io.postern.credentials.Credentials;
import io.postern.credentials.Secret;
import io.postern.testing.OpensslTool;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The request an nginx {@code auth_http} script receives: the headers nginx's mail module writes,
 * in its order, values escaped with {@code NGX_ESCAPE_MAIL_AUTH} (plus DEL), and the configured
 * extra headers last.
 */
class AuthHttpRequestTest {

  private static AuthRequest request(Protocol protocol, String user, byte[] password,
      String tlsProtocol, String tlsCipher, int attempt) {
    return new AuthRequest(protocol, "login", new Credentials(user, Secret.of(password)),
        "192.0.2.42", tlsProtocol, tlsCipher, attempt);
  }

  private static AuthRequest request(Protocol protocol, String user, String password,
      String tlsProtocol, String tlsCipher, int attempt) {
    return request(protocol, user, password.getBytes(StandardCharsets.UTF_8), tlsProtocol,
        tlsCipher, attempt);
  }

  // --- escaping ----------------------------------------------------------------------------

  @Test
  void escapeShouldTurnSpacePercentAndControlBytesIntoUpperCaseHex() {
    assertThat(AuthHttpRequest.escape(bytes("a b%c"))).isEqualTo("a%20b%25c");
    assertThat(AuthHttpRequest.escape(new byte[] {0x00, 0x09, 0x0a, 0x0d, 0x1b, 0x1f}))
        .isEqualTo("%00%09%0A%0D%1B%1F");
    assertThat(AuthHttpRequest.escape(new byte[] {0x7f})).isEqualTo("%7F");
    assertThat(AuthHttpRequest.escape(new byte[0])).isEmpty();
  }

  @Test
  void escapeShouldHandleEveryByteExactlyOnceInOneCharPerByteOut() {
    for (int c = 0; c < 256; c++) {
      String out = AuthHttpRequest.escape(new byte[] {(byte) c});
      boolean escaped = c <= 0x20 || c == '%' || c == 0x7f;
      if (escaped) {
        assertThat(out).as("byte 0x%02x", c).isEqualTo(String.format("%%%02X", c));
      } else {
        // Printable ASCII other than space and %, and every byte >= 0x80, pass as they are.
        assertThat(out).as("byte 0x%02x", c).isEqualTo(String.valueOf((char) c));
      }
    }
  }

  @Test
  void escapeShouldLeaveUtf8BytesUnchangedOneCharPerByte() {
    byte[] utf8 = "jörg€".getBytes(StandardCharsets.UTF_8);
    String out = AuthHttpRequest.escape(utf8);
    // The HTTP client writes each char as one byte: the service gets the UTF-8 bytes back.
    assertThat(out).hasSize(utf8.length);
    assertThat(out.getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(utf8);
    assertThat(out.chars()).allMatch(ch -> ch <= 0xff);
  }

  @Test
  void escapeShouldKeepEverySymbolAnAuthScriptMayMeetInAPassword() {
    String symbols = "!\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~";
    assertThat(AuthHttpRequest.escape(bytes(symbols))).isEqualTo(symbols);
    assertThat(AuthHttpRequest.escape(bytes("100% sure"))).isEqualTo("100%25%20sure");
    // Escaping is not idempotent: an already escaped-looking value is escaped again.
    assertThat(AuthHttpRequest.escape(bytes("%20"))).isEqualTo("%2520");
  }

  // --- headers -----------------------------------------------------------------------------

  @Test
  void aPlaintextImapLoginShouldGiveNginxsHeadersInNginxsOrderWithoutTlsFacts() {
    Map<String, String> h = AuthHttpRequest.headers(
        request(Protocol.IMAP, "alice", "secret", null, null, 1), Map.of());
    assertThat(h).containsExactly(
        Map.entry("Auth-Method", "plain"),
        Map.entry("Auth-User", "alice"),
        Map.entry("Auth-Pass", "secret"),
        Map.entry("Auth-Protocol", "imap"),
        Map.entry("Auth-Login-Attempt", "1"),
        Map.entry("Client-IP", "192.0.2.42"));
    assertThat(h.keySet()).noneMatch(k -> k.startsWith("Auth-SSL"));
  }

  @Test
  void aTlsPop3LoginShouldAddTheSslHeadersAfterClientIp() {
    Map<String, String> h = AuthHttpRequest.headers(request(Protocol.POP3, "bob", "pw",
        "TLSv1.3", "TLS_AES_128_GCM_SHA256", 3), Map.of());
    assertThat(List.copyOf(h.keySet())).containsExactly("Auth-Method", "Auth-User", "Auth-Pass",
        "Auth-Protocol", "Auth-Login-Attempt", "Client-IP", "Auth-SSL", "Auth-SSL-Protocol",
        "Auth-SSL-Cipher");
    assertThat(h).containsEntry("Auth-Protocol", "pop3")
        .containsEntry("Auth-Login-Attempt", "3")
        .containsEntry("Auth-SSL", "on")
        .containsEntry("Auth-SSL-Protocol", "TLSv1.3")
        .containsEntry("Auth-SSL-Cipher", "TLS_AES_128_GCM_SHA256");
  }

  @Test
  void everyOfferedCipherShouldBeNamedAsOpensslAndSoNginxNamesIt() throws Exception {
    // openssl itself says what each standard name is called in OpenSSL (and so by nginx).
    Map<String, String> openssl = new java.util.HashMap<>();
    String ciphers = OpensslTool.run(List.of("ciphers", "-stdname", "ALL"),
        java.time.Duration.ofSeconds(10));
    for (String line : ciphers.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && f[1].equals("-")) {
        openssl.put(f[0], f[2]);
      }
    }
    for (String suite : io.postern.tls.TlsDefaults.CIPHER_SUITES) {
      String sent = AuthHttpRequest.headers(request(Protocol.IMAP, "bob", "pw", "TLSv1.2",
          suite, 1), Map.of()).get("Auth-SSL-Cipher");
      assertThat(sent).as(suite).isEqualTo(openssl.get(suite)).isNotNull();
    }
  }

  @Test
  void aTlsLoginWithoutAKnownCipherShouldStillSayAuthSslOn() {
    Map<String, String> h = AuthHttpRequest.headers(
        request(Protocol.IMAP, "bob", "pw", "TLSv1.2", null, 1), Map.of());
    assertThat(h).containsEntry("Auth-SSL", "on").containsEntry("Auth-SSL-Protocol", "TLSv1.2")
        .doesNotContainKey("Auth-SSL-Cipher");
  }

  @Test
  void userAndPasswordShouldBeEscapedAndUtf8UserNamesSentAsTheirBytes() {
    Map<String, String> h = AuthHttpRequest.headers(request(Protocol.IMAP, "jörg müller",
        "p%ss word\u0001", null, null, 1), Map.of());
    assertThat(h.get("Auth-User").getBytes(StandardCharsets.ISO_8859_1))
        .isEqualTo(concat(bytes("j"), utf8("ö"), bytes("rg%20m"), utf8("ü"), bytes("ller")));
    assertThat(h.get("Auth-Pass")).isEqualTo("p%25ss%20word%01");
  }

  @Test
  void aPasswordThatIsNotUtf8ShouldBeSentAsItsRawBytes() {
    byte[] latin1 = {'p', (byte) 0xe4, 's', (byte) 0xff};
    Map<String, String> h = AuthHttpRequest.headers(
        request(Protocol.POP3, "u", latin1, null, null, 1), Map.of());
    assertThat(h.get("Auth-Pass").getBytes(StandardCharsets.ISO_8859_1)).isEqualTo(latin1);
  }

  @Test
  void configuredExtraHeadersShouldComeLastAndVerbatim() {
    Map<String, String> extra = new LinkedHashMap<>();
    extra.put("X-Auth-Secret", "shared secret%");
    extra.put("X-Site", "eu-1");
    Map<String, String> h = AuthHttpRequest.headers(request(Protocol.IMAP, "alice", "pw",
        "TLSv1.3", "TLS_AES_256_GCM_SHA384", 2), extra);
    List<String> names = List.copyOf(h.keySet());
    assertThat(names.subList(names.size() - 2, names.size()))
        .containsExactly("X-Auth-Secret", "X-Site");
    assertThat(h).containsEntry("X-Auth-Secret", "shared secret%").containsEntry("X-Site", "eu-1");
    assertThat(names).hasSize(11);
  }

  private static byte[] bytes(String ascii) {
    return ascii.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
