package io.postern.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.postern.tls.ClientHelloReader.Kind;
import io.postern.tls.ClientHelloReader.Result;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ClientHello reader on raw bytes: real ClientHellos from the JDK's TLS client, cut at every
 * offset, spread over records of every size, and hand-made malformed ones.
 */
class ClientHelloReaderTest {

  /** The first flight of a JDK TLS client offering {@code alpn} (nothing if empty). */
  static byte[] clientHello(String... alpn) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = context.createSSLEngine("mail.example.org", 993);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    if (alpn.length > 0) {
      parameters.setApplicationProtocols(alpn);
    }
    engine.setSSLParameters(parameters);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    return Arrays.copyOf(out.array(), out.position());
  }

  private static Result readAll(byte[] bytes) {
    return new ClientHelloReader().read(Unpooled.wrappedBuffer(bytes));
  }

  @Test
  void shouldReadTheOfferedProtocolsInOrder() throws Exception {
    Result result = readAll(clientHello("http/1.1", "imap", "h2"));
    assertThat(result.kind()).isEqualTo(Kind.ALPN);
    assertThat(result.protocols()).containsExactly("http/1.1", "imap", "h2");
  }

  @Test
  void shouldReadTheStartUpChecksHandMadeClientHello() {
    Result result = readAll(AlpnGuardCheck.foreignClientHello());
    assertThat(result.kind()).isEqualTo(Kind.ALPN);
    assertThat(result.protocols()).containsExactly(AlpnGuardCheck.FOREIGN);
  }

  @Test
  void shouldSeeWhenNoAlpnIsOffered() throws Exception {
    assertThat(readAll(clientHello()).kind()).isEqualTo(Kind.NO_ALPN);
  }

  /** TCP may deliver any prefix: the verdict waits for the whole ClientHello, then is the same. */
  @Test
  void shouldNeedMoreUntilTheLastByteAtEveryOffset() throws Exception {
    byte[] hello = clientHello("pop3", "http/1.1");
    ClientHelloReader reader = new ClientHelloReader();
    ByteBuf received = Unpooled.buffer();
    for (int i = 0; i < hello.length - 1; i++) {
      received.writeByte(hello[i]);
      assertThat(reader.read(received).kind()).as("after %d bytes", i + 1)
          .isEqualTo(Kind.NEED_MORE);
    }
    received.writeByte(hello[hello.length - 1]);
    assertThat(reader.read(received).protocols()).containsExactly("pop3", "http/1.1");
  }

  /** The reader index is the caller's: bytes before it (already handled) are not looked at. */
  @Test
  void shouldReadFromTheReaderIndex() throws Exception {
    byte[] hello = clientHello("imap");
    ByteBuf in = Unpooled.buffer();
    in.writeBytes("junk".getBytes(StandardCharsets.US_ASCII)).writeBytes(hello);
    in.skipBytes(4);
    assertThat(new ClientHelloReader().read(in).protocols()).containsExactly("imap");
  }

  /** A ClientHello may be split over several records (RFC 8446 §5.1); any size is legal. */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 7, 100, 512})
  void shouldJoinAClientHelloSplitOverRecords(int fragment) throws Exception {
    byte[] records = refragment(clientHello("http/1.1"), fragment);
    assertThat(readAll(records).protocols()).containsExactly("http/1.1");
    // And still whole only at the last byte.
    ClientHelloReader reader = new ClientHelloReader();
    ByteBuf received = Unpooled.buffer();
    for (int i = 0; i < records.length - 1; i++) {
      received.writeByte(records[i]);
      assertThat(reader.read(received).kind()).isEqualTo(Kind.NEED_MORE);
    }
    received.writeByte(records[records.length - 1]);
    assertThat(reader.read(received).protocols()).containsExactly("http/1.1");
  }

  @Test
  void shouldLeaveAnythingButATlsHandshakeToTheEngine() {
    assertThat(readAll("a1 LOGIN user pass\r\n".getBytes(StandardCharsets.US_ASCII)).kind())
        .isEqualTo(Kind.NOT_A_CLIENT_HELLO);
    // SSLv2-compatible hello: no extensions, so no ALPN; the engines refuse it.
    assertThat(readAll(new byte[] {(byte) 0x80, 0x2e, 0x01, 0x03, 0x01}).kind())
        .isEqualTo(Kind.NOT_A_CLIENT_HELLO);
    // An alert record first.
    assertThat(readAll(new byte[] {21, 3, 3, 0, 2, 2, 40}).kind())
        .isEqualTo(Kind.NOT_A_CLIENT_HELLO);
    // A handshake record holding a ServerHello (type 2).
    assertThat(readAll(new byte[] {22, 3, 3, 0, 4, 2, 0, 0, 0}).kind())
        .isEqualTo(Kind.NOT_A_CLIENT_HELLO);
  }

  @Test
  void shouldRefuseToBufferAnOversizedClientHello() {
    int length = ClientHelloReader.MAX_CLIENT_HELLO + 1;
    byte[] header = {22, 3, 1, 0, 4, 1, (byte) (length >> 16), (byte) (length >> 8),
        (byte) length};
    assertThat(readAll(header).kind()).isEqualTo(Kind.TOO_LARGE);
  }

  @Test
  void shouldLeaveMalformedAlpnToTheEngine() throws Exception {
    // The ALPN extension's list says one byte more than it holds.
    byte[] hello = clientHello("imap");
    int list = alpnListOffset(hello);
    hello[list + 1]++;
    assertThat(readAll(hello).kind()).isEqualTo(Kind.NOT_A_CLIENT_HELLO);
    // An empty name.
    byte[] empty = clientHello("imap");
    empty[alpnListOffset(empty) + 2] = 0;
    assertThat(readAll(empty).kind()).isEqualTo(Kind.NOT_A_CLIENT_HELLO);
  }

  @Test
  void shouldLeaveADuplicateAlpnExtensionToTheEngine() throws Exception {
    byte[] hello = clientHello("http/1.1", "imap");
    // Rename the first extension after ALPN's type to ALPN: a duplicate ALPN extension.
    int alpn = alpnListOffset(hello) - 4;
    int next = alpn + 4 + ((hello[alpn + 2] & 0xff) << 8 | hello[alpn + 3] & 0xff);
    hello[next] = 0;
    hello[next + 1] = 16;
    assertThat(readAll(hello).kind()).isEqualTo(Kind.NOT_A_CLIENT_HELLO);
  }

  @Test
  void shouldDescribeOfferedNamesPrintablyAndBounded() {
    assertThat(AlpnPolicy.describe(List.of("http/1.1", "a\u2028b\r\n", "x".repeat(40))))
        .isEqualTo("[http/1.1, a\\x2028b\\x0d\\x0a, " + "x".repeat(32) + "...]");
    assertThat(AlpnPolicy.describe(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9")))
        .isEqualTo("[1, 2, 3, 4, 5, 6, 7, 8, ...]");
  }

  /** Re-cuts the handshake bytes of {@code records} into records of {@code size} bytes. */
  static byte[] refragment(byte[] records, int size) {
    ByteArrayOutputStream handshake = new ByteArrayOutputStream();
    for (int at = 0; at < records.length; ) {
      int length = (records[at + 3] & 0xff) << 8 | records[at + 4] & 0xff;
      handshake.write(records, at + 5, length);
      at += 5 + length;
    }
    byte[] body = handshake.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int at = 0; at < body.length; at += size) {
      int n = Math.min(size, body.length - at);
      out.write(new byte[] {22, 3, 3, (byte) (n >> 8), (byte) n}, 0, 5);
      out.write(body, at, n);
    }
    return out.toByteArray();
  }

  /** Where the ALPN extension's ProtocolNameList length sits in a one-record ClientHello. */
  static int alpnListOffset(byte[] hello) {
    int at = 5 + 4 + 2 + 32;
    at += 1 + (hello[at] & 0xff);
    at += 2 + ((hello[at] & 0xff) << 8 | hello[at + 1] & 0xff);
    at += 1 + (hello[at] & 0xff);
    at += 2;
    while (true) {
      int type = (hello[at] & 0xff) << 8 | hello[at + 1] & 0xff;
      int length = (hello[at + 2] & 0xff) << 8 | hello[at + 3] & 0xff;
      if (type == 16) {
        return at + 4;
      }
      at += 4 + length;
    }
  }
}
