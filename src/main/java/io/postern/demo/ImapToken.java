package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** One argument of an IMAP command, as the client wrote it. */
sealed interface ImapToken {

  /** An atom, including NIL, flags such as {@code \Seen} and fetch items with their brackets. */
  record Atom(String value) implements ImapToken {}

  /** A quoted string or a literal; kept as bytes because passwords need not be UTF-8. */
  record Text(byte[] bytes) implements ImapToken {
    public Text {
      bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
      return bytes.clone();
    }

    String utf8() {
      return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Text t && java.util.Arrays.equals(t.bytes, bytes);
    }

    @Override
    public int hashCode() {
      return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
      // May be a password: never show the content.
      return "Text[" + bytes.length + " bytes]";
    }
  }

  /** A parenthesized list. */
  record Group(List<ImapToken> items) implements ImapToken {
    public Group {
      items = List.copyOf(items);
    }
  }
}
