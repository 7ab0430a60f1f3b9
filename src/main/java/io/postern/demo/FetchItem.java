package io.postern.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One data item of a FETCH request. */
sealed interface FetchItem {

  /** Items without a section. {@code BODY} alone is the non-extensible body structure. */
  enum Plain implements FetchItem {
    FLAGS,
    UID,
    RFC822_SIZE,
    INTERNALDATE,
    ENVELOPE,
    BODY,
    BODYSTRUCTURE,
    RFC822,
    RFC822_HEADER,
    RFC822_TEXT;

    String label() {
      return name().replace('_', '.');
    }
  }

  /**
   * {@code BODY[section]<partial>} or {@code BODY.PEEK[...]}.
   *
   * @param peek true for BODY.PEEK, which leaves \Seen alone
   * @param part MIME part numbers, empty for the whole message
   * @param kind "", HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME
   * @param fields header names for the HEADER.FIELDS kinds, upper case
   * @param partialStart first octet of a partial fetch, or -1
   * @param partialLength octet count of a partial fetch
   */
  record Section(
      boolean peek,
      List<Integer> part,
      String kind,
      List<String> fields,
      long partialStart,
      long partialLength)
      implements FetchItem {

    public Section {
      part = List.copyOf(part);
      fields = List.copyOf(fields);
    }

    /** The item name used in the response, e.g. {@code BODY[HEADER.FIELDS (FROM)]<0>}. */
    String label() {
      StringBuilder s = new StringBuilder("BODY[");
      s.append(String.join(".", part.stream().map(String::valueOf).toList()));
      if (!kind.isEmpty()) {
        s.append(part.isEmpty() ? "" : ".").append(kind);
      }
      if (kind.startsWith("HEADER.FIELDS")) {
        s.append(" (").append(String.join(" ", fields)).append(")");
      }
      s.append("]");
      if (partialStart >= 0) {
        s.append("<").append(partialStart).append(">");
      }
      return s.toString();
    }
  }

  Pattern SECTION =
      Pattern.compile(
          "(BODY(?:\\.PEEK)?)\\[((?:[1-9][0-9]{0,4}\\.)*(?:[1-9][0-9]{0,4})?)"
              + "(HEADER\\.FIELDS\\.NOT|HEADER\\.FIELDS|HEADER|TEXT|MIME)?"
              + "(?: \\(([^()]*)\\))?\\](?:<([0-9]{1,10})\\.([1-9][0-9]{0,9})>)?");

  /** True for items whose fetch sets \\Seen as a side effect (RFC 3501 6.4.5). */
  default boolean setsSeen() {
    return this == Plain.RFC822
        || this == Plain.RFC822_TEXT
        || this instanceof Section section && !section.peek();
  }

  static List<FetchItem> parseAll(ImapToken token) throws ImapSyntaxException {
    List<FetchItem> items = new ArrayList<>();
    if (token instanceof ImapToken.Group group) {
      for (ImapToken item : group.items()) {
        items.add(parse(atom(item)));
      }
      if (items.isEmpty()) {
        throw new ImapSyntaxException("Empty fetch item list.");
      }
      return items;
    }
    String macro = atom(token);
    return switch (macro) {
      case "ALL" -> List.of(Plain.FLAGS, Plain.INTERNALDATE, Plain.RFC822_SIZE, Plain.ENVELOPE);
      case "FAST" -> List.of(Plain.FLAGS, Plain.INTERNALDATE, Plain.RFC822_SIZE);
      case "FULL" ->
          List.of(Plain.FLAGS, Plain.INTERNALDATE, Plain.RFC822_SIZE, Plain.ENVELOPE, Plain.BODY);
      default -> List.of(parse(macro));
    };
  }

  private static String atom(ImapToken token) throws ImapSyntaxException {
    if (token instanceof ImapToken.Atom atom) {
      return atom.value().toUpperCase(Locale.ROOT);
    }
    throw new ImapSyntaxException("Invalid fetch item.");
  }

  private static FetchItem parse(String item) throws ImapSyntaxException {
    if (!item.contains("[") && !item.contains("_")) {
      try {
        return Plain.valueOf(item.replace('.', '_'));
      } catch (IllegalArgumentException e) {
        throw new ImapSyntaxException("Unknown fetch item " + item + ".");
      }
    }
    Matcher m = SECTION.matcher(item);
    if (item.contains("_") || !m.matches()) {
      throw new ImapSyntaxException("Unsupported fetch item " + item + ".");
    }
    List<Integer> part = new ArrayList<>();
    String numbers = m.group(2);
    for (String n : numbers.isEmpty() ? new String[0] : numbers.split("\\.")) {
      part.add(Integer.parseInt(n));
    }
    String kind = m.group(3) == null ? "" : m.group(3);
    boolean hasFieldList = m.group(4) != null;
    // A part number is followed by a dot only when a section kind comes after it ("1.MIME").
    boolean wellFormed = numbers.isEmpty() || numbers.endsWith(".") != kind.isEmpty();
    if (!wellFormed) {
      throw new ImapSyntaxException("Invalid section " + item + ".");
    }
    if (kind.equals("MIME") && part.isEmpty() || kind.startsWith("HEADER.FIELDS") != hasFieldList) {
      throw new ImapSyntaxException("Invalid section " + item + ".");
    }
    List<String> fields = hasFieldList ? List.of(m.group(4).strip().split(" +")) : List.of();
    if (hasFieldList && fields.get(0).isEmpty()) {
      throw new ImapSyntaxException("Empty header field list.");
    }
    long start = m.group(5) == null ? -1 : Long.parseLong(m.group(5));
    long length = m.group(6) == null ? 0 : Long.parseLong(m.group(6));
    return new Section(m.group(1).endsWith("PEEK"), part, kind, fields, start, length);
  }
}
