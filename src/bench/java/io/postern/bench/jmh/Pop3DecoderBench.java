package io.postern.bench.jmh;

import static io.postern.bench.jmh.DecoderRuns.decode;
import static io.postern.bench.jmh.DecoderRuns.expect;
import static io.postern.bench.jmh.DecoderRuns.reads;
import static java.nio.charset.StandardCharsets.US_ASCII;

import io.postern.pop3.Pop3Decoder;
import io.postern.pop3.Pop3Request;
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
 * The POP3 client decoder as a session drives it before login: each read fed in, then
 * {@code read} until it wants more; one decoder per connection, one command (or the USER and
 * PASS pair) per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class Pop3DecoderBench {

  static final int MAX_LINE = ImapDecoderBench.MAX_LINE;

  /** USER and PASS, each in its own read (the client waits for +OK in between). */
  static final byte[][] USER_PASS = reads("USER jane.doe@example.com\r\n",
      "PASS correct horse battery staple\r\n");
  /** AUTH PLAIN with its initial response (RFC 5034). */
  static final byte[][] AUTH_PLAIN = reads("AUTH PLAIN " + Base64.getEncoder().encodeToString(
      "\0jane.doe@example.com\0correct horse battery staple".getBytes(US_ASCII)) + "\r\n");
  /** PASS cut across reads, CR and LF apart included. */
  static final byte[][] PASS_SPLIT = reads("PA", "SS correct horse ", "battery staple\r", "\n");

  private Pop3Decoder decoder;

  @Setup
  public void setUp() {
    decoder = new Pop3Decoder(MAX_LINE);
    expect(new Pop3Decoder(MAX_LINE), USER_PASS, Pop3Request.Pass.class);
    expect(new Pop3Decoder(MAX_LINE), AUTH_PLAIN, Pop3Request.Auth.class);
    expect(new Pop3Decoder(MAX_LINE), PASS_SPLIT, Pop3Request.Pass.class);
  }

  @Benchmark
  public void userPass(Blackhole out) {
    decode(decoder, USER_PASS, out);
  }

  @Benchmark
  public void authPlain(Blackhole out) {
    decode(decoder, AUTH_PLAIN, out);
  }

  @Benchmark
  public void passSplitAcrossReads(Blackhole out) {
    decode(decoder, PASS_SPLIT, out);
  }
}
