package io.postern.bench.jmh;

import static io.postern.bench.jmh.DecoderRuns.decode;
import static io.postern.bench.jmh.DecoderRuns.expect;
import static io.postern.bench.jmh.DecoderRuns.reads;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.postern.imap.ImapDecoder;
import io.postern.imap.ImapRequest;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The IMAP client decoder as a session drives it before login ({@code ClientSession.received}):
 * each read's bytes fed in, then {@code read} until it wants more. One decoder per connection, as
 * in production: each operation is one command on a connection that is already open, so the
 * decoder's own construction (once per connection) is not in the figures.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ImapDecoderBench {

  /** The shipped defaults of limits.max-line and limits.max-literal. */
  static final int MAX_LINE = 8192;
  static final int MAX_LITERAL = 8192;

  private static final String USER = "jane.doe@example.com";
  private static final String PASSWORD = "correct horse battery staple";

  /** Thunderbird's and most clients' plain LOGIN, one read. */
  static final byte[][] LOGIN = reads("a1 LOGIN " + USER + " \"" + PASSWORD + "\"\r\n");
  /** SASL-IR: the credentials in the command (Apple Mail, K-9, Outlook). */
  static final byte[][] AUTHENTICATE_PLAIN = reads("a2 AUTHENTICATE PLAIN "
      + Base64.getEncoder().encodeToString(("\0" + USER + "\0" + PASSWORD).getBytes(US_ASCII))
      + "\r\n");
  /** Synchronising literals: three reads, a "+" asked for after the first two. */
  static final byte[][] LOGIN_LITERALS = reads("a3 LOGIN {" + USER.length() + "}\r\n",
      USER + " {" + PASSWORD.length() + "}\r\n", PASSWORD + "\r\n");
  /** LITERAL+ (non-synchronising): the same command in one read. */
  static final byte[][] LOGIN_LITERAL_PLUS = reads("a4 LOGIN {" + USER.length() + "+}\r\n"
      + USER + " {" + PASSWORD.length() + "+}\r\n" + PASSWORD + "\r\n");
  /** LOGIN cut where TCP segments or TLS records may cut it, CR and LF apart included. */
  static final byte[][] LOGIN_SPLIT = reads("a5 LOG", "IN " + USER + " \"correct ho",
      "rse battery staple\"\r", "\n");

  private ImapDecoder decoder;

  @Setup
  public void setUp() {
    decoder = new ImapDecoder(MAX_LINE, MAX_LITERAL);
    expect(new ImapDecoder(MAX_LINE, MAX_LITERAL), LOGIN, ImapRequest.Login.class);
    expect(new ImapDecoder(MAX_LINE, MAX_LITERAL), AUTHENTICATE_PLAIN,
        ImapRequest.Authenticate.class);
    expect(new ImapDecoder(MAX_LINE, MAX_LITERAL), LOGIN_LITERALS, ImapRequest.Login.class);
    expect(new ImapDecoder(MAX_LINE, MAX_LITERAL), LOGIN_LITERAL_PLUS, ImapRequest.Login.class);
    expect(new ImapDecoder(MAX_LINE, MAX_LITERAL), LOGIN_SPLIT, ImapRequest.Login.class);
  }

  @Benchmark
  public void login(Blackhole out) {
    decode(decoder, LOGIN, out);
  }

  @Benchmark
  public void authenticatePlain(Blackhole out) {
    decode(decoder, AUTHENTICATE_PLAIN, out);
  }

  @Benchmark
  public void loginSynchronisingLiterals(Blackhole out) {
    decode(decoder, LOGIN_LITERALS, out);
  }

  @Benchmark
  public void loginLiteralPlus(Blackhole out) {
    decode(decoder, LOGIN_LITERAL_PLUS, out);
  }

  @Benchmark
  public void loginSplitAcrossReads(Blackhole out) {
    decode(decoder, LOGIN_SPLIT, out);
  }
}
