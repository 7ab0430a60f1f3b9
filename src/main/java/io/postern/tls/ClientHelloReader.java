package io.postern.tls;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the ALPN offer (RFC 7301) of a connection's first TLS ClientHello from the bytes received
 * so far, before the TLS engine sees them. It never consumes them: the engine gets every byte
 * after the verdict. The ClientHello may arrive split over TCP segments and over TLS records; each
 * complete record is copied once, so a client dripping bytes costs linear work.
 *
 * <p>Anything that is not a well-formed TLS ClientHello is left to the engine, which refuses it
 * with its own alert: both engines parse the same fields as strictly as this does.
 */
final class ClientHelloReader {

  /**
   * The largest ClientHello read, 32 KiB: the JDK's default {@code jdk.tls.maxHandshakeMessageSize}
   * (BoringSSL allows less). Real ones are 0.5–2 KiB; this bounds the copy per connection.
   */
  static final int MAX_CLIENT_HELLO = 32 * 1024;

  private static final int RECORD_HEADER = 5;
  private static final int MAX_FRAGMENT = 16 * 1024;
  private static final int HANDSHAKE = 22;
  private static final int CLIENT_HELLO = 1;
  private static final int ALPN_EXTENSION = 16;

  /** What the bytes so far say. */
  enum Kind {
    /** The ClientHello is not complete yet. */
    NEED_MORE,
    /** Not a TLS ClientHello, or a malformed one: the engine decides (and refuses). */
    NOT_A_CLIENT_HELLO,
    /** Larger than {@link #MAX_CLIENT_HELLO}. */
    TOO_LARGE,
    /** A ClientHello without the ALPN extension. */
    NO_ALPN,
    /** A ClientHello offering {@link Result#protocols()}. */
    ALPN
  }

  /** {@code protocols} are the offered names in order (ISO-8859-1, byte for byte); else empty. */
  record Result(Kind kind, List<String> protocols) {
    static final Result NEED_MORE = new Result(Kind.NEED_MORE, List.of());
    static final Result NOT_A_CLIENT_HELLO = new Result(Kind.NOT_A_CLIENT_HELLO, List.of());
    static final Result TOO_LARGE = new Result(Kind.TOO_LARGE, List.of());
    static final Result NO_ALPN = new Result(Kind.NO_ALPN, List.of());
  }

  /** The handshake bytes of the records read so far (record headers stripped). */
  private ByteBuf handshake;
  /** How many bytes after the reader index of the input have been copied into it. */
  private int examined;

  /**
   * Looks at {@code in} from its reader index, which must not move between calls (the caller
   * keeps every byte until the verdict). Call again with more bytes after {@link Kind#NEED_MORE}.
   */
  Result read(ByteBuf in) {
    while (true) {
      if (handshake != null && handshake.readableBytes() >= 4) {
        if (handshake.getUnsignedByte(0) != CLIENT_HELLO) {
          return Result.NOT_A_CLIENT_HELLO;
        }
        int length = handshake.getUnsignedMedium(1);
        if (length > MAX_CLIENT_HELLO) {
          return Result.TOO_LARGE;
        }
        if (handshake.readableBytes() >= 4 + length) {
          return clientHello(handshake, 4, length);
        }
      }
      int at = in.readerIndex() + examined;
      if (in.writerIndex() - at < RECORD_HEADER) {
        return Result.NEED_MORE;
      }
      if (in.getUnsignedByte(at) != HANDSHAKE || in.getUnsignedByte(at + 1) != 3) {
        // SSLv2-style hellos (no extensions, so no ALPN), other records, or no TLS at all.
        return Result.NOT_A_CLIENT_HELLO;
      }
      int length = in.getUnsignedShort(at + 3);
      if (length == 0 || length > MAX_FRAGMENT) {
        return Result.NOT_A_CLIENT_HELLO;
      }
      if (in.writerIndex() - at < RECORD_HEADER + length) {
        return Result.NEED_MORE;
      }
      if (handshake == null) {
        handshake = Unpooled.buffer(length);
      }
      handshake.writeBytes(in, at + RECORD_HEADER, length);
      examined += RECORD_HEADER + length;
    }
  }

  /** Parses a ClientHello body (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) for its ALPN extension. */
  static Result clientHello(ByteBuf buf, int offset, int length) {
    Cursor c = new Cursor(buf, offset, offset + length);
    if (!c.skip(2 + 32)) { // legacy_version, random
      return Result.NOT_A_CLIENT_HELLO;
    }
    int sessionId = c.u8();
    if (sessionId < 0 || sessionId > 32 || !c.skip(sessionId)) {
      return Result.NOT_A_CLIENT_HELLO;
    }
    int suites = c.u16();
    if (suites < 2 || !c.skip(suites)) {
      return Result.NOT_A_CLIENT_HELLO;
    }
    int compressions = c.u8();
    if (compressions < 1 || !c.skip(compressions)) {
      return Result.NOT_A_CLIENT_HELLO;
    }
    if (c.remaining() == 0) {
      return Result.NO_ALPN; // no extensions at all (TLS 1.2 allows it)
    }
    int extensions = c.u16();
    if (extensions != c.remaining()) {
      return Result.NOT_A_CLIENT_HELLO;
    }
    List<String> offered = null;
    while (c.remaining() > 0) {
      int type = c.u16();
      int size = c.u16();
      if (size < 0 || size > c.remaining()) {
        return Result.NOT_A_CLIENT_HELLO;
      }
      if (type == ALPN_EXTENSION) {
        if (offered != null) {
          return Result.NOT_A_CLIENT_HELLO; // a duplicate extension is illegal
        }
        offered = protocolNames(new Cursor(buf, c.position, c.position + size));
        if (offered == null) {
          return Result.NOT_A_CLIENT_HELLO;
        }
      }
      c.skip(size);
    }
    return offered == null ? Result.NO_ALPN : new Result(Kind.ALPN, List.copyOf(offered));
  }

  /** ProtocolNameList: a 2-byte length, then names of 1–255 bytes, at least one. */
  private static List<String> protocolNames(Cursor c) {
    int length = c.u16();
    if (length < 2 || length != c.remaining()) {
      return null;
    }
    List<String> names = new ArrayList<>();
    while (c.remaining() > 0) {
      int size = c.u8();
      if (size < 1 || size > c.remaining()) {
        return null;
      }
      names.add(c.buf.toString(c.position, size, StandardCharsets.ISO_8859_1));
      c.skip(size);
    }
    return names;
  }

  /** A bounded read position; reads past the end return -1. */
  private static final class Cursor {
    private final ByteBuf buf;
    private final int end;
    private int position;

    Cursor(ByteBuf buf, int position, int end) {
      this.buf = buf;
      this.position = position;
      this.end = end;
    }

    int remaining() {
      return end - position;
    }

    boolean skip(int n) {
      if (n > remaining()) {
        return false;
      }
      position += n;
      return true;
    }

    int u8() {
      if (remaining() < 1) {
        return -1;
      }
      return buf.getUnsignedByte(position++);
    }

    int u16() {
      if (remaining() < 2) {
        return -1;
      }
      int value = buf.getUnsignedShort(position);
      position += 2;
      return value;
    }
  }
}
