package io.postern.pop3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.postern.session.ClientInput;
import io.postern.testing.Pieces;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Fuzzes the POP3 decoder and command parser with what a client may send before login. The
 * expected lines come from an independent reading of the bytes (split at LF, one CR before it
 * dropped, {@code max-line} bytes at most), which every delivery of the same bytes must match:
 * whole, in random pieces, and byte by byte. Each command must be what its first word says, in
 * ASCII, with its arguments' bytes unchanged.
 */
class Pop3DecoderFuzzTest {

  private static final HexFormat HEX = HexFormat.of();

  @FuzzTest
  void linesAreTheSameHoweverTheBytesArriveAndStayWithinMaxLine(FuzzedDataProvider data) {
    int maxLine = data.consumeInt(1, 64);
    int saslMask = data.consumeInt();
    int[] cuts = Pieces.cutPoints(data, 8);
    byte[] input = data.consumeRemainingAsBytes();

    Result expected = expected(input, maxLine, saslMask);
    assertEquals(expected, run(Pieces.whole(input), maxLine, saslMask), "whole");
    assertEquals(expected, run(Pieces.cut(input, cuts), maxLine, saslMask), "in pieces");
    assertEquals(expected, run(Pieces.bytewise(input), maxLine, saslMask), "byte by byte");
  }

  /** Events and the bytes left for the backend; {@code rest} is null after a refusal. */
  private record Result(List<String> events, String rest) {}

  /** What the decoder must produce, read straight from the bytes. */
  private static Result expected(byte[] input, int maxLine, int saslMask) {
    List<String> events = new ArrayList<>();
    int pos = 0;
    while (true) {
      int lf = indexOf(input, (byte) '\n', pos);
      if (lf < 0) {
        int pending = input.length - pos;
        // A CR at the very end may be the first half of CRLF: it is no part of the line.
        if (pending > 0 && input[input.length - 1] == '\r') {
          pending--;
        }
        if (pending > maxLine) {
          events.add("TOO BIG");
          return new Result(events, null);
        }
        return new Result(events, HEX.formatHex(Arrays.copyOfRange(input, pos, input.length)));
      }
      int end = lf > pos && input[lf - 1] == '\r' ? lf - 1 : lf;
      if (end - pos > maxLine) {
        events.add("TOO BIG");
        return new Result(events, null);
      }
      byte[] line = Arrays.copyOfRange(input, pos, end);
      if (sasl(saslMask, events.size())) {
        events.add("SASL " + HEX.formatHex(line));
      } else {
        Pop3Request request = Pop3Request.parse(line);
        checkRequest(line, request);
        events.add(describe(request));
      }
      pos = lf + 1;
    }
  }

  private static Result run(List<byte[]> pieces, int maxLine, int saslMask) {
    Pop3Decoder decoder = new Pop3Decoder(maxLine);
    List<String> events = new ArrayList<>();
    for (byte[] piece : pieces) {
      assertTrue(decoder.feed(piece), "fuzz inputs stay far below the buffer's backstop");
      ClientInput<Pop3Request> input;
      while ((input = decoder.read(sasl(saslMask, events.size()))) != null) {
        if (input instanceof ClientInput.TooBig<Pop3Request>) {
          events.add("TOO BIG");
          return new Result(events, null);
        } else if (input instanceof ClientInput.SaslResponse<Pop3Request> r) {
          assertTrue(r.line().length <= maxLine, "a line over max-line");
          events.add("SASL " + HEX.formatHex(r.line()));
        } else if (input instanceof ClientInput.Command<Pop3Request> c) {
          events.add(describe(c.request()));
        } else {
          fail("POP3 has no " + input);
        }
      }
    }
    return new Result(events, HEX.formatHex(decoder.drain()));
  }

  /** Whether the k-th line is read as a SASL response (the session decides; any order may come). */
  private static boolean sasl(int mask, int k) {
    return (mask >>> (k & 31) & 1) == 1;
  }

  /** The parse must follow the line's own bytes; nothing secret may show in its text. */
  private static void checkRequest(byte[] line, Pop3Request request) {
    int space = indexOf(line, (byte) ' ', 0);
    byte[] word = Arrays.copyOfRange(line, 0, space < 0 ? line.length : space);
    String keyword = asciiUpper(word);
    byte[] argument = space < 0 ? null : Arrays.copyOfRange(line, space + 1, line.length);
    boolean clean = indexOf(line, (byte) 0, 0) < 0 && indexOf(line, (byte) '\r', 0) < 0;
    if (request instanceof Pop3Request.Invalid invalid) {
      assertTrue(invalid.message().matches("[A-Z][A-Za-z .]*\\."),
          "an error text of Postern's own: " + invalid.message());
      return;
    }
    assertTrue(clean, "a command with NUL or CR accepted: " + request);
    if (request instanceof Pop3Request.Capa) {
      assertEquals("CAPA", keyword);
      assertNull(argument);
    } else if (request instanceof Pop3Request.Stls) {
      assertEquals("STLS", keyword);
      assertNull(argument);
    } else if (request instanceof Pop3Request.Quit) {
      assertEquals("QUIT", keyword);
      assertNull(argument);
    } else if (request instanceof Pop3Request.User user) {
      assertEquals("USER", keyword);
      assertEquals(new String(argument, StandardCharsets.UTF_8), user.name());
      assertFalse(user.name().isEmpty() || user.name().contains(" "));
    } else if (request instanceof Pop3Request.Pass pass) {
      assertEquals("PASS", keyword);
      assertArrayEquals(argument, pass.password().bytes(), "the password's bytes unchanged");
      assertEquals("Pass[password=Secret[****]]", request.toString(), "the password shown");
    } else if (request instanceof Pop3Request.Auth auth) {
      assertEquals("AUTH", keyword);
      if (auth.mechanism() == null) {
        assertNull(argument);
        assertNull(auth.initialResponse());
        return;
      }
      String[] parts = new String(argument, StandardCharsets.UTF_8).split(" ", -1);
      assertTrue(parts.length <= 2);
      assertEquals(asciiUpper(parts[0]), auth.mechanism());
      if (parts.length == 2) {
        byte[] sent = parts[1].equals("=") ? new byte[0]
            : parts[1].getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(sent, auth.initialResponse());
        assertEquals("Auth[mechanism=" + auth.mechanism() + "]", request.toString(),
            "the initial response shown");
      } else {
        assertNull(auth.initialResponse());
      }
    } else {
      fail("unknown request " + request);
    }
  }

  private static String describe(Pop3Request request) {
    if (request instanceof Pop3Request.Pass pass) {
      return "PASS " + HEX.formatHex(pass.password().bytes());
    } else if (request instanceof Pop3Request.Auth auth) {
      return "AUTH " + auth.mechanism() + " "
          + (auth.initialResponse() == null ? "-" : HEX.formatHex(auth.initialResponse()));
    }
    return request.toString();
  }

  /** Upper case in ASCII only; a word with any other byte keeps its bytes (as ISO-8859-1). */
  private static String asciiUpper(byte[] word) {
    StringBuilder out = new StringBuilder(word.length);
    for (byte b : word) {
      char c = (char) (b & 0xff);
      out.append(c >= 'a' && c <= 'z' ? (char) (c - 32) : c);
    }
    return out.toString();
  }

  private static String asciiUpper(String word) {
    StringBuilder out = new StringBuilder(word.length());
    for (char c : word.toCharArray()) {
      out.append(c >= 'a' && c <= 'z' ? (char) (c - 32) : c);
    }
    return out.toString();
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
