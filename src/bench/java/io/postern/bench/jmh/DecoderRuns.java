package io.postern.bench.jmh;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.postern.session.ClientDecoder;
import io.postern.session.ClientInput;
import org.openjdk.jmh.infra.Blackhole;

/** What the session does with each read, for either protocol's decoder (ClientSession.received). */
final class DecoderRuns {

  private DecoderRuns() {}

  /** Feeds each read, then takes every input it completes. */
  static <R> void decode(ClientDecoder<R> decoder, byte[][] reads, Blackhole out) {
    for (byte[] read : reads) {
      decoder.feed(read);
      ClientInput<R> input;
      while ((input = decoder.read(false)) != null) {
        out.consume(input);
      }
    }
  }

  /**
   * Checks at setup that {@code reads} end in one {@code type} command: a benchmark of an error
   * path by mistake would measure the wrong thing.
   */
  static <R> void expect(ClientDecoder<R> fresh, byte[][] reads, Class<? extends R> type) {
    ClientInput<R> last = null;
    for (byte[] read : reads) {
      fresh.feed(read);
      ClientInput<R> input;
      while ((input = fresh.read(false)) != null) {
        last = input;
      }
    }
    if (!(last instanceof ClientInput.Command<R> c) || !type.isInstance(c.request())) {
      throw new IllegalStateException("expected " + type.getSimpleName() + ", got " + last);
    }
  }

  /** The bytes of each read, as the client's TCP segments would bring them. */
  static byte[][] reads(String... reads) {
    byte[][] bytes = new byte[reads.length][];
    for (int i = 0; i < reads.length; i++) {
      bytes[i] = reads[i].getBytes(US_ASCII);
    }
    return bytes;
  }
}
