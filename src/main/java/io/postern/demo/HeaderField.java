package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One RFC 5322 header field.
 *
 * @param name the field name as written
 * @param value the unfolded value, still RFC 2047 encoded
 * @param raw the field exactly as on the wire, folding and final CRLF included, so that {@code
 *     BODY[HEADER.FIELDS (...)]} can return the original bytes
 */
record HeaderField(String name, String value, String raw) {

  private static final Pattern ENCODED_WORD =
      Pattern.compile("=\\?([^?]+)\\?([BbQq])\\?([^?]*)\\?=(?:\\s+(?==\\?))?");

  /** Parses a header block (ISO-8859-1 text so that every byte survives) into its fields. */
  static List<HeaderField> parseAll(String header) {
    List<HeaderField> fields = new ArrayList<>();
    StringBuilder raw = null;
    for (String line : header.split("(?<=\r\n)")) {
      if (line.equals("\r\n")) {
        break;
      }
      boolean continuation = line.startsWith(" ") || line.startsWith("\t");
      if (continuation && raw != null) {
        raw.append(line);
        continue;
      }
      if (raw != null) {
        fields.add(of(raw.toString()));
      }
      raw = new StringBuilder(line);
    }
    if (raw != null) {
      fields.add(of(raw.toString()));
    }
    return List.copyOf(fields);
  }

  private static HeaderField of(String raw) {
    int colon = raw.indexOf(':');
    String name = colon < 0 ? raw.strip() : raw.substring(0, colon).strip();
    String value = colon < 0 ? "" : raw.substring(colon + 1).replace("\r\n", "").strip();
    return new HeaderField(name, value, raw);
  }

  boolean named(String other) {
    return name.equalsIgnoreCase(other);
  }

  /** The value with RFC 2047 encoded words decoded, for SEARCH which compares human text. */
  String decodedValue() {
    Matcher m = ENCODED_WORD.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(decodeWord(m)));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static String decodeWord(Matcher m) {
    try {
      var charset = java.nio.charset.Charset.forName(m.group(1));
      String text = m.group(3);
      byte[] bytes;
      if (m.group(2).toUpperCase(Locale.ROOT).equals("B")) {
        bytes = Base64.getDecoder().decode(text);
      } else {
        bytes = decodeQ(text);
      }
      return new String(bytes, charset);
    } catch (IllegalArgumentException e) {
      // A malformed word is shown as written rather than failing the whole search.
      return m.group();
    }
  }

  private static byte[] decodeQ(String text) {
    byte[] in = text.getBytes(StandardCharsets.US_ASCII);
    var out = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < in.length; i++) {
      if (in[i] == '_') {
        out.write(' ');
      } else if (in[i] == '=' && i + 2 < in.length) {
        out.write(Integer.parseInt(text.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        out.write(in[i]);
      }
    }
    return out.toByteArray();
  }
}
