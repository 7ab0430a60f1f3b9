package io.postern.demo;

import java.util.LinkedHashSet;
import java.util.Set;

/** A message as one session sees it: the shared immutable message plus this session's flags. */
final class FolderMessage {

  private final DemoMessage message;
  private final Set<String> flags = new LinkedHashSet<>();

  FolderMessage(DemoMessage message) {
    this.message = message;
  }

  DemoMessage message() {
    return message;
  }

  long uid() {
    return message.uid();
  }

  /** Live view; only the owning session mutates it. */
  Set<String> flags() {
    return flags;
  }

  boolean has(String flag) {
    return flags.contains(flag);
  }

  String flagList() {
    return "(" + String.join(" ", flags) + ")";
  }
}
