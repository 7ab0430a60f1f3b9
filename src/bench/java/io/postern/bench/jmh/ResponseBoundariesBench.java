package io.postern.bench.jmh;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.netty.buffer.Unpooled;
import io.postern.imap.ImapResponseBoundaries;
import io.postern.relay.ResponseBoundaries;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The IMAP response-boundary tracker as the relay runs it on every backend read
 * ({@code ResponseBoundaries.follow(data, false)}), over a FETCH response stream cut into
 * reads of {@code read} bytes (16 KiB: a TLS record; 64 KiB: a large plaintext read). One
 * operation is the whole stream, 1 MiB give or take ({@link #streamBytes} has the size):
 * <ul>
 *   <li>{@code largeMessage}: one {@code BODY[]} of 1 MiB (one literal, skipped by length);
 *   <li>{@code headerListing}: a client listing a folder, 2 000 responses each with a 400-byte
 *       header literal;
 *   <li>{@code flagLines}: 20 000 literal-free {@code FLAGS} lines (every line end searched).
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ResponseBoundariesBench {

  @Param({"16384", "65536"})
  public int read;

  @Param({"largeMessage", "headerListing", "flagLines"})
  public String stream;

  private List<Buffer> reads;
  private ResponseBoundaries boundaries;

  @Setup
  public void setUp() {
    byte[] bytes = switch (stream) {
      case "largeMessage" -> largeMessage();
      case "headerListing" -> headerListing();
      case "flagLines" -> flagLines();
      default -> throw new IllegalArgumentException(stream);
    };
    reads = new ArrayList<>();
    for (int at = 0; at < bytes.length; at += read) {
      // What a NetSocket hands over: Vert.x's copy of Netty's read buffer.
      reads.add(BufferInternal.safeBuffer(Unpooled.copiedBuffer(bytes, at,
          Math.min(read, bytes.length - at))));
    }
    boundaries = new ImapResponseBoundaries();
    follow();
    if (!boundaries.between()) {
      throw new IllegalStateException("the stream does not end between two responses");
    }
  }

  /** The stream's size in bytes, for MiB/s. */
  public static int streamBytes(String stream) {
    return switch (stream) {
      case "largeMessage" -> largeMessage().length;
      case "headerListing" -> headerListing().length;
      default -> flagLines().length;
    };
  }

  @Benchmark
  public int follow() {
    int n = 0;
    for (Buffer data : reads) {
      n += boundaries.follow(data, false);
    }
    return n;
  }

  static byte[] largeMessage() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] body = message(1 << 20);
    write(out, "* 1 FETCH (UID 4242 BODY[] {" + body.length + "}\r\n");
    out.writeBytes(body);
    write(out, ")\r\na7 OK Fetch completed (0.002 + 0.000 secs).\r\n");
    return out.toByteArray();
  }

  static byte[] headerListing() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] header = message(400);
    for (int i = 1; i <= 2000; i++) {
      write(out, "* " + i + " FETCH (UID " + (1000 + i) + " RFC822.SIZE " + (4000 + i)
          + " FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM TO SUBJECT DATE)] {" + header.length
          + "}\r\n");
      out.writeBytes(header);
      write(out, ")\r\n");
    }
    write(out, "a8 OK Fetch completed (0.010 + 0.000 secs).\r\n");
    return out.toByteArray();
  }

  static byte[] flagLines() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 1; i <= 20_000; i++) {
      write(out, "* " + i + " FETCH (UID " + (1000 + i) + " FLAGS (\\Seen \\Answered))\r\n");
    }
    write(out, "a9 OK Fetch completed (0.010 + 0.000 secs).\r\n");
    return out.toByteArray();
  }

  /** Text lines of 78 characters with CRLF, as a message body is, {@code size} bytes. */
  static byte[] message(int size) {
    byte[] line = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod"
        + " tempor\r\n").getBytes(US_ASCII);
    byte[] body = new byte[size];
    for (int i = 0; i < size; i++) {
      body[i] = line[i % line.length];
    }
    return body;
  }

  private static void write(ByteArrayOutputStream out, String text) {
    out.writeBytes(text.getBytes(US_ASCII));
  }
}
