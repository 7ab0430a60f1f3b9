package io.postern.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.postern.credentials.Credentials;
import io.postern.imap.ImapDecoder;
import io.postern.imap.ImapRequest;
import io.postern.pop3.Pop3Decoder;
import io.postern.pop3.Pop3Request;
import io.postern.sasl.SaslMechanism;
import io.postern.sasl.SaslStep;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * A bearer token's line, as the client's bytes arrive split at every point: the IMAP and POP3
 * decoders frame it and the mechanisms take it the same, within the default line limit.
 */
class BearerLineSplitTest {

  /** The shipped {@code limits.max-line} and {@code max-literal}. */
  private static final int MAX_LINE = 8192;
  /** A short JWT-shaped token, for splitting at every byte. */
  private static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
  /** A token of 6 KB: JWTs with many claims reach 4 KB. */
  private static final String BIG = "eyJhbGciOiJSUzI1NiJ9." + "e".repeat(6000) + ".c2ln";

  private static String oauthBearer(String token) {
    return Base64.getEncoder().encodeToString(("n,a=alice,\u0001host=h\u0001port=993\u0001"
        + "auth=Bearer " + token + "\u0001\u0001").getBytes(StandardCharsets.UTF_8));
  }

  private static String xoauth2(String token) {
    return Base64.getEncoder().encodeToString(("user=alice\u0001auth=Bearer " + token
        + "\u0001\u0001").getBytes(StandardCharsets.UTF_8));
  }

  private static <R> ClientInput<R> feedSplit(ClientDecoder<R> decoder, byte[] line, int at,
      boolean saslResponse) {
    assertThat(decoder.feed(Arrays.copyOfRange(line, 0, at))).isTrue();
    ClientInput<R> early = decoder.read(saslResponse);
    assertThat(early).as("nothing before the line ends (split at %d)", at).isNull();
    assertThat(decoder.feed(Arrays.copyOfRange(line, at, line.length))).isTrue();
    return decoder.read(saslResponse);
  }

  private static void assertToken(SaslStep step, int at) {
    assertToken(step, at, TOKEN);
  }

  private static void assertToken(SaslStep step, int at, String token) {
    assertThat(step).as("split at %d", at).isInstanceOf(SaslStep.Done.class);
    Credentials c = ((SaslStep.Done) step).credentials();
    assertThat(c.user()).isEqualTo("alice");
    assertThat(c.password().text()).isEqualTo(token);
  }

  @Test
  void aSixKilobyteTokenShouldFitTheDefaultLineLimit() {
    byte[] line = ("a1 AUTHENTICATE OAUTHBEARER " + oauthBearer(BIG) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    assertThat(line.length).isLessThan(MAX_LINE);
    for (int at : new int[] {0, 1, 100, line.length / 2, line.length - 2, line.length - 1}) {
      ClientInput<ImapRequest> in = feedSplit(new ImapDecoder(MAX_LINE, MAX_LINE), line, at,
          false);
      ImapRequest.Authenticate a = (ImapRequest.Authenticate)
          ((ClientInput.Command<ImapRequest>) in).request();
      assertToken(SaslMechanism.named(a.mechanism()).start(a.initialResponse()), at, BIG);
    }
    byte[] pop3 = ("AUTH OAUTHBEARER " + oauthBearer(BIG) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    ClientInput<Pop3Request> in = feedSplit(new Pop3Decoder(MAX_LINE), pop3, pop3.length / 3,
        false);
    Pop3Request.Auth auth = (Pop3Request.Auth) ((ClientInput.Command<Pop3Request>) in).request();
    assertToken(SaslMechanism.named(auth.mechanism()).start(auth.initialResponse()), 0, BIG);
  }

  @Test
  void imapSaslIrLineShouldGiveTheTokenAtEverySplit() {
    byte[] line = ("a1 AUTHENTICATE OAUTHBEARER " + oauthBearer(TOKEN) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII);
    for (int at = 0; at < line.length; at++) {
      ClientInput<ImapRequest> in = feedSplit(new ImapDecoder(MAX_LINE, MAX_LINE), line, at,
          false);
      ImapRequest.Authenticate a = (ImapRequest.Authenticate)
          ((ClientInput.Command<ImapRequest>) in).request();
      assertThat(a.mechanism()).isEqualTo("OAUTHBEARER");
      assertToken(SaslMechanism.named(a.mechanism()).start(a.initialResponse()), at);
    }
  }

  @Test
  void imapResponseLineShouldGiveTheTokenAtEverySplit() {
    byte[] line = (xoauth2(TOKEN) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    for (int at = 0; at < line.length; at++) {
      ClientInput<ImapRequest> in = feedSplit(new ImapDecoder(MAX_LINE, MAX_LINE), line, at,
          true);
      SaslMechanism m = SaslMechanism.named("XOAUTH2");
      assertThat(m.start(null)).isEqualTo(new SaslStep.Challenge(""));
      assertToken(m.next(((ClientInput.SaslResponse<ImapRequest>) in).line()), at);
    }
  }

  @Test
  void pop3AuthLineAndResponseShouldGiveTheTokenAtEverySplit() {
    byte[] line = ("AUTH XOAUTH2 " + xoauth2(TOKEN) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    byte[] response = (oauthBearer(TOKEN) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    for (int at = 0; at < line.length; at++) {
      ClientInput<Pop3Request> in = feedSplit(new Pop3Decoder(MAX_LINE), line, at, false);
      Pop3Request.Auth auth = (Pop3Request.Auth) ((ClientInput.Command<Pop3Request>) in)
          .request();
      assertToken(SaslMechanism.named(auth.mechanism()).start(auth.initialResponse()), at);
    }
    for (int at = 0; at < response.length; at++) {
      ClientInput<Pop3Request> in = feedSplit(new Pop3Decoder(MAX_LINE), response, at, true);
      assertToken(SaslMechanism.named("OAUTHBEARER")
          .next(((ClientInput.SaslResponse<Pop3Request>) in).line()), at);
    }
  }

  @Test
  void theEmptyResponseShouldBeMalformedNotATokenlessLogin() {
    ClientInput<ImapRequest> in = feedSplit(new ImapDecoder(MAX_LINE, MAX_LINE),
        "a AUTHENTICATE XOAUTH2 =\r\n".getBytes(StandardCharsets.US_ASCII), 5, false);
    ImapRequest.Authenticate a = (ImapRequest.Authenticate)
        ((ClientInput.Command<ImapRequest>) in).request();
    assertThat(a.initialResponse()).isEmpty();
    assertThat(SaslMechanism.named("XOAUTH2").start(a.initialResponse()))
        .isInstanceOf(SaslStep.Malformed.class);
    assertThat(SaslMechanism.named("OAUTHBEARER").start(a.initialResponse()))
        .isInstanceOf(SaslStep.Malformed.class);
  }
}
