package io.postern.demo;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders one untagged FETCH response with exact literal sizes. */
final class FetchResponse {

  private static final DateTimeFormatter INTERNALDATE =
      DateTimeFormatter.ofPattern("dd-MMM-yyyy HH:mm:ss Z", Locale.ENGLISH);

  private FetchResponse() {}

  /**
   * @param byUid a UID command, whose responses must carry the UID
   * @param flagsChanged \Seen was just set as a side effect, so FLAGS must be reported
   */
  static Buffer render(
      int seq,
      FolderMessage message,
      List<FetchItem> requested,
      boolean byUid,
      boolean flagsChanged) {
    List<FetchItem> items = new ArrayList<>();
    // Implicit items go first: clients such as curl read the first literal as the message and
    // ignore the rest of the response, so nothing may follow it unasked.
    if (byUid && !requested.contains(FetchItem.Plain.UID)) {
      items.add(FetchItem.Plain.UID);
    }
    if (flagsChanged && !requested.contains(FetchItem.Plain.FLAGS)) {
      items.add(FetchItem.Plain.FLAGS);
    }
    items.addAll(requested);
    ImapOutput out = new ImapOutput().text("* " + seq + " FETCH (");
    String separator = "";
    for (FetchItem item : items) {
      out.text(separator);
      separator = " ";
      item(out, message, item);
    }
    return out.text(")").crlf().buffer();
  }

  private static void item(ImapOutput out, FolderMessage folderMessage, FetchItem item) {
    DemoMessage m = folderMessage.message();
    if (item instanceof FetchItem.Section section) {
      out.text(section.label() + " ");
      byte[] data = sectionData(m, section);
      if (data == null) {
        out.text("NIL");
      } else {
        out.literal(partial(data, section));
      }
      return;
    }
    FetchItem.Plain plain = (FetchItem.Plain) item;
    out.text(plain.label() + " ");
    switch (plain) {
      case FLAGS -> out.text(folderMessage.flagList());
      case UID -> out.number(m.uid());
      case RFC822_SIZE -> out.number(m.size());
      case INTERNALDATE -> out.text("\"" + INTERNALDATE.format(m.internalDate()) + "\"");
      case ENVELOPE -> ImapStructure.envelope(out, m);
      case BODY -> ImapStructure.body(out, m, false);
      case BODYSTRUCTURE -> ImapStructure.body(out, m, true);
      case RFC822 -> out.literal(m.raw());
      case RFC822_HEADER -> out.literal(m.header());
      case RFC822_TEXT -> out.literal(m.body());
    }
  }

  /** The bytes of a section, or null when the part does not exist (sent as NIL). */
  static byte[] sectionData(DemoMessage m, FetchItem.Section section) {
    MimeEntity entity = m.mime();
    for (int n : section.part()) {
      if (entity.isMultipart()) {
        if (n > entity.parts().size()) {
          return null;
        }
        entity = entity.parts().get(n - 1);
      } else if (n != 1) {
        // A single-part entity has exactly one part, itself (RFC 3501 6.4.5).
        return null;
      }
    }
    return switch (section.kind()) {
      case "" -> section.part().isEmpty() ? m.raw() : m.slice(entity.bodyStart(), entity.end());
      case "HEADER", "MIME" -> m.slice(entity.headerStart(), entity.bodyStart());
      case "TEXT" -> m.slice(entity.bodyStart(), entity.end());
      default -> headerFields(entity, section);
    };
  }

  private static byte[] headerFields(MimeEntity entity, FetchItem.Section section) {
    boolean exclude = section.kind().endsWith(".NOT");
    StringBuilder out = new StringBuilder();
    for (HeaderField field : entity.fields()) {
      boolean listed = section.fields().stream().anyMatch(field::named);
      if (listed != exclude) {
        out.append(field.raw());
      }
    }
    // The blank line that ends a header is part of every header section.
    return out.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] partial(byte[] data, FetchItem.Section section) {
    if (section.partialStart() < 0) {
      return data;
    }
    int from = (int) Math.min(data.length, section.partialStart());
    int to = (int) Math.min(data.length, from + section.partialLength());
    return java.util.Arrays.copyOfRange(data, from, to);
  }
}
