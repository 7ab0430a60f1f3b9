package io.postern.imap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.postern.session.ClientInput;
import io.postern.session.Goodbye;
import io.postern.testing.Pieces;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fuzzes the IMAP decoder (lines, synchronising and non-synchronising literals, AUTHENTICATE
 * response lines) and the parse of each command before login. Every frame must be made of the
 * client's bytes in order, nothing lost or added, within {@code max-line} and
 * {@code max-literal}; the bytes left over must be exactly the rest; and the same bytes must give
 * the same commands whole, in random pieces and byte by byte.
 */
class ImapDecoderFuzzTest {

  private static final HexFormat HEX = HexFormat.of();
  private static final Pattern MARKER = Pattern.compile("\\{([0-9]+)\\+?}$");

  @FuzzTest
  void commandsAreTheSameHoweverTheBytesArriveAndStayWithinTheLimits(FuzzedDataProvider data) {
    int maxLine = data.consumeInt(1, 80);
    int maxLiteral = data.consumeInt(0, 80);
    int saslMask = data.consumeInt();
    int[] cuts = Pieces.cutPoints(data, 8);
    byte[] input = data.consumeRemainingAsBytes();

    Limits limits = new Limits(maxLine, maxLiteral, saslMask);
    Result whole = framed(input, Pieces.whole(input), limits);
    assertEquals(whole, framed(input, Pieces.bytewise(input), limits), "byte by byte");
    assertEquals(whole, read(Pieces.cut(input, cuts), limits), "in pieces, as the session reads");
  }

  private record Limits(int maxLine, int maxLiteral, int saslMask) {
    /** Whether the k-th input is read as an AUTHENTICATE response (the session decides). */
    boolean sasl(int k) {
      return (saslMask >>> (k & 31) & 1) == 1;
    }
  }

  /** What came out, and the bytes left for the backend (null after a refusal). */
  private record Result(List<String> events, String rest) {}

  /** Through next() and nextLine(), checking every frame against the input. */
  private static Result framed(byte[] input, List<byte[]> pieces, Limits limits) {
    ImapDecoder decoder = new ImapDecoder(limits.maxLine(), limits.maxLiteral());
    List<String> events = new ArrayList<>();
    int cursor = 0;
    boolean inCommand = false;
    for (byte[] piece : pieces) {
      assertTrue(decoder.feed(piece), "fuzz inputs stay far below the buffer's backstop");
      while (true) {
        boolean sasl = !inCommand && limits.sasl(events.size());
        ImapInput in = sasl ? decoder.nextLine() : decoder.next();
        if (in == null) {
          break;
        } else if (in instanceof ImapInput.Frame f) {
          cursor = checkFrame(f.frame(), input, cursor, limits);
          ImapRequest request = ImapRequests.parse(f.frame());
          checkRequest(request);
          events.add(describe(request));
          inCommand = false;
        } else if (in instanceof ImapInput.Line l) {
          assertTrue(l.bytes().length <= limits.maxLine(), "a response line over max-line");
          cursor = expectLine(input, cursor, l.bytes());
          events.add("line " + HEX.formatHex(l.bytes()));
        } else if (in instanceof ImapInput.LiteralWanted) {
          events.add("+");
          inCommand = true;
        } else if (in instanceof ImapInput.TooBig t) {
          events.add("too big " + t.what());
          return new Result(events, null);
        }
      }
    }
    String rest = HEX.formatHex(decoder.drain());
    assertEquals(HEX.formatHex(Arrays.copyOfRange(input, cursor, input.length)), rest,
        "the bytes after the last command, exactly as received");
    return new Result(events, rest);
  }

  /** Through read(), as ClientSession does. */
  private static Result read(List<byte[]> pieces, Limits limits) {
    ImapDecoder decoder = new ImapDecoder(limits.maxLine(), limits.maxLiteral());
    List<String> events = new ArrayList<>();
    boolean inCommand = false;
    for (byte[] piece : pieces) {
      assertTrue(decoder.feed(piece));
      ClientInput<ImapRequest> in;
      while ((in = decoder.read(!inCommand && limits.sasl(events.size()))) != null) {
        if (in instanceof ClientInput.Command<ImapRequest> c) {
          events.add(describe(c.request()));
          inCommand = false;
        } else if (in instanceof ClientInput.SaslResponse<ImapRequest> r) {
          events.add("line " + HEX.formatHex(r.line()));
        } else if (in instanceof ClientInput.GoAhead<ImapRequest> g) {
          assertEquals("+ Ready for literal data\r\n", g.reply());
          events.add("+");
          inCommand = true;
        } else if (in instanceof ClientInput.TooBig<ImapRequest> t) {
          events.add("too big " + (t.why() == Goodbye.LINE_TOO_LONG ? "line" : "literal"));
          return new Result(events, null);
        }
      }
    }
    return new Result(events, HEX.formatHex(decoder.drain()));
  }

  /**
   * A frame is text lines, each but the last ending in a literal marker followed by exactly that
   * many bytes, all taken from the input in order; returns where the next command starts.
   */
  private static int checkFrame(ImapFrame frame, byte[] input, int cursor, Limits limits) {
    List<ImapFrame.Segment> segments = frame.segments();
    assertFalse(segments.isEmpty());
    assertFalse(segments.get(segments.size() - 1).literal(), "a frame ends with text");
    int text = 0;
    int literals = 0;
    for (int i = 0; i < segments.size(); i++) {
      ImapFrame.Segment segment = segments.get(i);
      byte[] bytes = segment.bytes();
      if (segment.literal()) {
        assertTrue(i > 0 && !segments.get(i - 1).literal(), "a literal follows text");
        cursor = expect(input, cursor, bytes);
        literals += bytes.length;
        continue;
      }
      text += bytes.length;
      cursor = expectLine(input, cursor, bytes);
      Matcher marker = MARKER.matcher(new String(bytes, StandardCharsets.ISO_8859_1));
      boolean last = i == segments.size() - 1;
      if (last) {
        assertFalse(marker.find(), "a command ending in a literal marker, but no literal");
      } else {
        assertTrue(marker.find(), "a literal without a marker");
        assertEquals(new BigInteger(marker.group(1)),
            BigInteger.valueOf(segments.get(i + 1).bytes().length), "the literal's length");
      }
    }
    assertTrue(text <= limits.maxLine(), "command text over max-line: " + text);
    assertTrue(literals <= limits.maxLiteral(), "literals over max-literal: " + literals);
    return cursor;
  }

  /** {@code line} at {@code cursor}, then LF or CRLF; returns the offset after it. */
  private static int expectLine(byte[] input, int cursor, byte[] line) {
    for (byte b : line) {
      assertTrue(b != '\n', "LF inside a line");
    }
    int at = expect(input, cursor, line);
    if (at + 1 < input.length && input[at] == '\r' && input[at + 1] == '\n') {
      return at + 2;
    }
    assertTrue(at < input.length && input[at] == '\n', "a line not ended by LF or CRLF");
    return at + 1;
  }

  private static int expect(byte[] input, int cursor, byte[] bytes) {
    assertTrue(cursor + bytes.length <= input.length, "more bytes out than in");
    assertEquals(HEX.formatHex(Arrays.copyOfRange(input, cursor, cursor + bytes.length)),
        HEX.formatHex(bytes), "bytes altered, lost or reordered");
    return cursor + bytes.length;
  }

  /** The parse of any frame: a tag as IMAP allows, texts of Postern's own, no secret shown. */
  private static void checkRequest(ImapRequest request) {
    if (request instanceof ImapRequest.Invalid invalid) {
      assertTrue(invalid.message().matches("[A-Z][A-Za-z0-9 /.,-]*\\."),
          "an error text of Postern's own: " + invalid.message());
      if (invalid.tag() != null) {
        checkTag(invalid.tag());
      }
      return;
    }
    checkTag(request.tag());
    if (request instanceof ImapRequest.NotAllowed n) {
      assertTrue(isAtom(n.command()), "a command name that is no atom: " + n.command());
    } else if (request instanceof ImapRequest.Login login) {
      assertNotNull(login.user());
      assertEquals("Login[tag=" + login.tag() + "]", login.toString(), "the password shown");
    } else if (request instanceof ImapRequest.Authenticate auth) {
      assertTrue(isAtom(auth.mechanism()), "a mechanism that is no atom: " + auth.mechanism());
      assertEquals("Authenticate[tag=" + auth.tag() + ", mechanism=" + auth.mechanism() + "]",
          auth.toString(), "the initial response shown");
      if (auth.initialResponse() != null) {
        String sent = new String(auth.initialResponse(), StandardCharsets.ISO_8859_1);
        assertTrue(sent.isEmpty() || isAtom(sent), "an initial response that is no atom");
      }
    } else if (request instanceof ImapRequest.Id id && id.fields() != null) {
      assertTrue(id.fields().size() % 2 == 0 && id.fields().size() <= 2 * 30);
      for (int i = 0; i < id.fields().size(); i += 2) {
        assertNotNull(id.fields().get(i), "an ID field name that is NIL");
      }
    } else if (!(request instanceof ImapRequest.Capability || request instanceof ImapRequest.Noop
        || request instanceof ImapRequest.Logout || request instanceof ImapRequest.StartTls
        || request instanceof ImapRequest.Id)) {
      fail("unknown request " + request);
    }
  }

  /** RFC 9051 tag: ASTRING-CHARs but '+', here at most 64. */
  private static void checkTag(String tag) {
    assertNotNull(tag);
    assertTrue(!tag.isEmpty() && tag.length() <= 64, "tag length " + tag.length());
    for (char c : tag.toCharArray()) {
      assertTrue(c == ']' || isAtomChar(c) && c != '+', "a tag char " + (int) c);
    }
  }

  private static boolean isAtom(String word) {
    if (word.isEmpty()) {
      return false;
    }
    for (char c : word.toCharArray()) {
      if (!isAtomChar(c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isAtomChar(char c) {
    return c > 0x20 && c < 0x7f && "(){%*\"\\]".indexOf(c) < 0;
  }

  private static String describe(ImapRequest request) {
    if (request instanceof ImapRequest.Login login) {
      return "LOGIN " + login.tag() + " " + HEX.formatHex(login.user()) + " "
          + HEX.formatHex(login.password().bytes());
    } else if (request instanceof ImapRequest.Authenticate auth) {
      return "AUTHENTICATE " + auth.tag() + " " + auth.mechanism() + " "
          + (auth.initialResponse() == null ? "-" : HEX.formatHex(auth.initialResponse()));
    } else if (request instanceof ImapRequest.Id id) {
      StringBuilder out = new StringBuilder("ID " + id.tag());
      if (id.fields() != null) {
        for (byte[] field : id.fields()) {
          out.append(' ').append(field == null ? "NIL" : HEX.formatHex(field));
        }
      }
      return out.toString();
    }
    return request.toString();
  }
}
