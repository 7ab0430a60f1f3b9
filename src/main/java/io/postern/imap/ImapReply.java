package io.postern.imap;

import java.util.List;
import java.util.Locale;

/** A backend's complete answer to one tagged command: its untagged lines and the tagged line. */
record ImapReply(List<String> untagged, String tagged) {

  ImapReply {
    untagged = List.copyOf(untagged);
  }

  /** OK, NO or BAD (upper case), or "" if the tagged line is malformed. */
  String status() {
    String[] words = tagged.split(" ", 3);
    return words.length < 2 ? "" : words[1].toUpperCase(Locale.ROOT);
  }

  /** The response code's contents without brackets (e.g. {@code CAPABILITY IMAP4rev1 ...}), or null. */
  String code() {
    return ImapLines.code(afterStatus());
  }

  /** Everything after the status word. */
  String afterStatus() {
    String[] words = tagged.split(" ", 3);
    return words.length < 3 ? "" : words[2];
  }
}
