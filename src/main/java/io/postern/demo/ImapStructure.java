package io.postern.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Renders ENVELOPE, BODY and BODYSTRUCTURE from a message's parsed header and MIME tree. */
final class ImapStructure {

  private ImapStructure() {}

  static void envelope(ImapOutput out, DemoMessage message) {
    MimeEntity mime = message.mime();
    String from = value(mime, "From");
    out.text("(").nstring(value(mime, "Date"));
    out.text(" ").nstring(value(mime, "Subject"));
    out.text(" ");
    addresses(out, from);
    // RFC 3501: sender and reply-to default to from when absent.
    out.text(" ");
    addresses(out, Optional.ofNullable(value(mime, "Sender")).orElse(from));
    out.text(" ");
    addresses(out, Optional.ofNullable(value(mime, "Reply-To")).orElse(from));
    for (String name : List.of("To", "Cc", "Bcc")) {
      out.text(" ");
      addresses(out, value(mime, name));
    }
    out.text(" ").nstring(value(mime, "In-Reply-To"));
    out.text(" ").nstring(value(mime, "Message-ID")).text(")");
  }

  static void body(ImapOutput out, DemoMessage message, boolean extended) {
    part(out, message, message.mime(), extended);
  }

  private static void part(
      ImapOutput out, DemoMessage message, MimeEntity entity, boolean extended) {
    MimeEntity.Attribute type = entity.contentType();
    String[] typeParts = type.value().split("/", 2);
    if (entity.isMultipart()) {
      out.text("(");
      for (MimeEntity child : entity.parts()) {
        part(out, message, child, extended);
      }
      out.text(" ").string(upper(typeParts[1]));
      if (extended) {
        out.text(" ");
        params(out, type.params());
        out.text(" ");
        disposition(out, entity);
        out.text(" NIL NIL");
      }
      out.text(")");
      return;
    }
    out.text("(").string(upper(typeParts[0])).text(" ");
    out.string(upper(typeParts.length > 1 ? typeParts[1] : "plain")).text(" ");
    params(out, type.params());
    out.text(" ").nstring(value(entity, "Content-ID"));
    out.text(" ").nstring(value(entity, "Content-Description"));
    out.text(" ").string(upper(entity.transferEncoding()));
    out.text(" ").number(entity.bodySize());
    if (typeParts[0].equals("text")) {
      out.text(" ").number(lines(message.slice(entity.bodyStart(), entity.end())));
    }
    if (extended) {
      out.text(" ").nstring(value(entity, "Content-MD5")).text(" ");
      disposition(out, entity);
      out.text(" NIL NIL");
    }
    out.text(")");
  }

  private static void params(ImapOutput out, Map<String, String> params) {
    if (params.isEmpty()) {
      out.text("NIL");
      return;
    }
    out.text("(");
    String separator = "";
    for (Map.Entry<String, String> p : params.entrySet()) {
      out.text(separator).string(upper(p.getKey())).text(" ").string(p.getValue());
      separator = " ";
    }
    out.text(")");
  }

  private static void disposition(ImapOutput out, MimeEntity entity) {
    Optional<MimeEntity.Attribute> disposition = entity.disposition();
    if (disposition.isEmpty()) {
      out.text("NIL");
      return;
    }
    out.text("(").string(upper(disposition.get().value())).text(" ");
    params(out, disposition.get().params());
    out.text(")");
  }

  private static void addresses(ImapOutput out, String header) {
    if (header == null || header.isBlank()) {
      out.text("NIL");
      return;
    }
    out.text("(");
    for (String address : splitAddresses(header)) {
      String name = null;
      String spec = address.strip();
      int open = spec.lastIndexOf('<');
      if (open >= 0 && spec.endsWith(">")) {
        name = spec.substring(0, open).strip();
        spec = spec.substring(open + 1, spec.length() - 1);
        if (name.length() >= 2 && name.startsWith("\"") && name.endsWith("\"")) {
          name = name.substring(1, name.length() - 1);
        }
        name = name.isEmpty() ? null : name;
      }
      int at = spec.lastIndexOf('@');
      String mailbox = at < 0 ? spec : spec.substring(0, at);
      String host = at < 0 ? null : spec.substring(at + 1);
      out.text("(").nstring(name).text(" NIL ").string(mailbox).text(" ").nstring(host).text(")");
    }
    out.text(")");
  }

  /** Splits at commas that are outside quotes and angle brackets. */
  private static List<String> splitAddresses(String header) {
    List<String> result = new ArrayList<>();
    boolean quoted = false;
    int angle = 0;
    int start = 0;
    for (int i = 0; i < header.length(); i++) {
      char c = header.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && c == '<') {
        angle++;
      } else if (!quoted && c == '>' && angle > 0) {
        angle--;
      } else if (!quoted && angle == 0 && c == ',') {
        result.add(header.substring(start, i));
        start = i + 1;
      }
    }
    result.add(header.substring(start));
    result.removeIf(String::isBlank);
    return result;
  }

  private static String value(MimeEntity entity, String name) {
    return entity.field(name).map(HeaderField::value).orElse(null);
  }

  private static String upper(String s) {
    return s.toUpperCase(Locale.ROOT);
  }

  private static int lines(byte[] body) {
    int lines = 0;
    for (byte b : body) {
      if (b == '\n') {
        lines++;
      }
    }
    return body.length > 0 && body[body.length - 1] != '\n' ? lines + 1 : lines;
  }
}
