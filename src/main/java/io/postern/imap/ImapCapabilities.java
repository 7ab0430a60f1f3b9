package io.postern.imap;

import java.util.ArrayList;
import java.util.List;

/** A backend's capability list, spelled as the backend sent it; lookups ignore case. */
record ImapCapabilities(List<String> names) {

  static final ImapCapabilities NONE = new ImapCapabilities(List.of());

  ImapCapabilities {
    names = List.copyOf(names);
  }

  /** From a {@code CAPABILITY ...} response code or the text after {@code * CAPABILITY}. */
  static ImapCapabilities parse(String list) {
    List<String> out = new ArrayList<>();
    for (String word : list.trim().split(" +")) {
      if (!word.isEmpty() && !word.equalsIgnoreCase("CAPABILITY")) {
        out.add(word);
      }
    }
    return new ImapCapabilities(out);
  }

  boolean has(String name) {
    return names.stream().anyMatch(n -> n.equalsIgnoreCase(name));
  }

  java.util.Set<String> upperCase() {
    java.util.Set<String> out = new java.util.HashSet<>();
    names.forEach(n -> out.add(n.toUpperCase(java.util.Locale.ROOT)));
    return out;
  }

  String joined() {
    return String.join(" ", names);
  }
}
