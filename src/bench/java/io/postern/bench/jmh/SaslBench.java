package io.postern.bench.jmh;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.postern.imap.ImapDecoder;
import io.postern.imap.ImapRequest;
import io.postern.sasl.SaslMechanism;
import io.postern.sasl.SaslStep;
import io.postern.session.ClientInput;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The SASL path as the session runs it ({@code ClientSession.authenticate}): the mechanism
 * looked up by name, one instance per attempt, the client's base64 decoded into
 * {@code Credentials}. Every operation ends in {@code SaslStep.Done} (checked at setup).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SaslBench {

  private static final Base64.Encoder BASE64 = Base64.getEncoder();
  static final byte[] PLAIN_RESPONSE = BASE64.encode(
      "\0jane.doe@example.com\0correct horse battery staple".getBytes(US_ASCII));
  static final byte[] LOGIN_USER = BASE64.encode("jane.doe@example.com".getBytes(US_ASCII));
  static final byte[] LOGIN_PASSWORD =
      BASE64.encode("correct horse battery staple".getBytes(US_ASCII));

  private ImapDecoder decoder;

  @Setup
  public void setUp() {
    decoder = new ImapDecoder(ImapDecoderBench.MAX_LINE, ImapDecoderBench.MAX_LITERAL);
    for (SaslStep step : new SaslStep[] {plainInitialResponse(), plainAfterChallenge(), login(),
        imapAuthenticatePlain()}) {
      if (!(step instanceof SaslStep.Done)) {
        throw new IllegalStateException("expected Done, got " + step);
      }
    }
  }

  /** PLAIN with its initial response (SASL-IR, POP3 AUTH): one step to credentials. */
  @Benchmark
  public SaslStep plainInitialResponse() {
    return SaslMechanism.named("PLAIN").start(PLAIN_RESPONSE);
  }

  /** PLAIN without one: an empty challenge, then the response line. */
  @Benchmark
  public SaslStep plainAfterChallenge() {
    SaslMechanism plain = SaslMechanism.named("PLAIN");
    plain.start(null);
    return plain.next(PLAIN_RESPONSE);
  }

  /** LOGIN: user name and password prompted one at a time. */
  @Benchmark
  public SaslStep login() {
    SaslMechanism login = SaslMechanism.named("LOGIN");
    login.start(null);
    login.next(LOGIN_USER);
    return login.next(LOGIN_PASSWORD);
  }

  /** From the bytes of {@code AUTHENTICATE PLAIN <ir>} to credentials: decoder, parser, SASL. */
  @Benchmark
  public SaslStep imapAuthenticatePlain() {
    decoder.feed(ImapDecoderBench.AUTHENTICATE_PLAIN[0]);
    ClientInput<ImapRequest> input = decoder.read(false);
    ImapRequest.Authenticate authenticate =
        (ImapRequest.Authenticate) ((ClientInput.Command<ImapRequest>) input).request();
    return SaslMechanism.named(authenticate.mechanism()).start(authenticate.initialResponse());
  }
}
