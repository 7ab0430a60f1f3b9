package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A message or body part, located by byte offsets in the message it belongs to.
 *
 * <p>Offsets rather than copies keep every FETCH section an exact slice of the stored bytes, so
 * sizes announced in literals always match what is sent.
 *
 * @param headerStart first byte of the header
 * @param bodyStart first byte after the blank line that ends the header
 * @param end one past the last byte of the body
 * @param fields header fields in order
 * @param parts sub-parts of a multipart entity, empty otherwise
 */
record MimeEntity(
    int headerStart, int bodyStart, int end, List<HeaderField> fields, List<MimeEntity> parts) {

  /** A content type or disposition value split into its lower-case token and parameters. */
  record Attribute(String value, Map<String, String> params) {}

  static MimeEntity parse(byte[] raw) {
    return parse(raw, 0, raw.length);
  }

  private static MimeEntity parse(byte[] raw, int start, int end) {
    int blank = start;
    if (!startsWith(raw, start, "\r\n")) {
      blank = indexOf(raw, "\r\n\r\n", start, end);
      blank = blank < 0 ? end : blank + 2;
    }
    int bodyStart = Math.min(end, blank + 2);
    String header = new String(raw, start, bodyStart - start, StandardCharsets.ISO_8859_1);
    List<HeaderField> fields = HeaderField.parseAll(header);
    MimeEntity shell = new MimeEntity(start, bodyStart, end, fields, List.of());
    Attribute type = shell.contentType();
    String boundary = type.params().get("boundary");
    if (!type.value().startsWith("multipart/") || boundary == null) {
      return shell;
    }
    return new MimeEntity(start, bodyStart, end, fields, splitParts(raw, bodyStart, end, boundary));
  }

  /**
   * Splits a multipart body; the CRLF before each delimiter belongs to the delimiter (RFC 2046).
   */
  private static List<MimeEntity> splitParts(byte[] raw, int bodyStart, int end, String boundary) {
    String dash = "--" + boundary;
    List<MimeEntity> parts = new ArrayList<>();
    int partStart = -1;
    int lineStart = bodyStart;
    while (lineStart < end) {
      int lineEnd = indexOf(raw, "\r\n", lineStart, end);
      int next = lineEnd < 0 ? end : lineEnd + 2;
      if (startsWith(raw, lineStart, dash)) {
        if (partStart >= 0) {
          parts.add(parse(raw, partStart, Math.max(partStart, lineStart - 2)));
        }
        if (startsWith(raw, lineStart + dash.length(), "--")) {
          break;
        }
        partStart = next;
      }
      lineStart = next;
    }
    return List.copyOf(parts);
  }

  Optional<HeaderField> field(String name) {
    return fields.stream().filter(f -> f.named(name)).findFirst();
  }

  Attribute contentType() {
    return field("Content-Type")
        .map(f -> attribute(f.value()))
        .orElse(new Attribute("text/plain", Map.of("charset", "us-ascii")));
  }

  Optional<Attribute> disposition() {
    return field("Content-Disposition").map(f -> attribute(f.value()));
  }

  String transferEncoding() {
    return field("Content-Transfer-Encoding").map(HeaderField::value).orElse("7bit");
  }

  boolean isMultipart() {
    return !parts.isEmpty();
  }

  int headerSize() {
    return bodyStart - headerStart;
  }

  int bodySize() {
    return end - bodyStart;
  }

  /** Parses {@code type/subtype; name=value; name="quoted value"} as our fixed messages use it. */
  static Attribute attribute(String text) {
    String[] pieces = text.split(";");
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 1; i < pieces.length; i++) {
      int eq = pieces[i].indexOf('=');
      if (eq < 0) {
        continue;
      }
      String name = pieces[i].substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = pieces[i].substring(eq + 1).strip();
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      params.put(name, value);
    }
    return new Attribute(pieces[0].strip().toLowerCase(Locale.ROOT), params);
  }

  static int indexOf(byte[] raw, String needle, int from, int to) {
    for (int i = from; i + needle.length() <= to; i++) {
      if (startsWith(raw, i, needle)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean startsWith(byte[] raw, int at, String prefix) {
    if (at < 0 || at + prefix.length() > raw.length) {
      return false;
    }
    for (int i = 0; i < prefix.length(); i++) {
      if (raw[at + i] != (byte) prefix.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
