package io.postern.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * INBOX as one IMAP session sees it. Each session gets its own, so flags and expunges never leak
 * between connections and every new connection starts from the fixed messages again.
 */
final class DemoFolder {

  static final List<String> SYSTEM_FLAGS =
      List.of("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft");

  private final List<FolderMessage> messages = new ArrayList<>();

  DemoFolder(List<DemoMessage> initial) {
    initial.forEach(m -> messages.add(new FolderMessage(m)));
  }

  int exists() {
    return messages.size();
  }

  FolderMessage at(int seq) {
    return messages.get(seq - 1);
  }

  long uidNext() {
    return DemoMessages.uidNext();
  }

  int unseen() {
    return (int) messages.stream().filter(m -> !m.has("\\Seen")).count();
  }

  /** Sequence number of the first message without \Seen, or 0. */
  int firstUnseen() {
    for (int i = 0; i < messages.size(); i++) {
      if (!messages.get(i).has("\\Seen")) {
        return i + 1;
      }
    }
    return 0;
  }

  long largestUid() {
    return messages.isEmpty() ? 0 : messages.get(messages.size() - 1).uid();
  }

  /** Sequence numbers, ascending, of the messages a set names by number or by UID. */
  List<Integer> select(SequenceSet set, boolean byUid) throws ImapSyntaxException {
    if (!byUid && set.largestExplicit() > exists()) {
      throw new ImapSyntaxException("Invalid message sequence number.");
    }
    if (!byUid && exists() == 0) {
      throw new ImapSyntaxException("The mailbox is empty.");
    }
    List<Integer> result = new ArrayList<>();
    for (int seq = 1; seq <= messages.size(); seq++) {
      boolean hit = byUid ? set.contains(at(seq).uid(), largestUid()) : set.contains(seq, exists());
      if (hit) {
        result.add(seq);
      }
    }
    return result;
  }

  /** Removes \Deleted messages and returns the numbers for untagged EXPUNGE responses, in order. */
  List<Integer> expunge() {
    List<Integer> expunged = new ArrayList<>();
    for (int i = 0; i < messages.size(); ) {
      if (messages.get(i).has("\\Deleted")) {
        messages.remove(i);
        // Each EXPUNGE renumbers later messages, so the same index is reported again.
        expunged.add(i + 1);
      } else {
        i++;
      }
    }
    return expunged;
  }

  /** The canonical spelling of a storable flag; \Recent and unknown system flags are refused. */
  static String canonicalFlag(String flag) throws ImapSyntaxException {
    for (String system : SYSTEM_FLAGS) {
      if (system.equalsIgnoreCase(flag)) {
        return system;
      }
    }
    boolean atom = !flag.isEmpty() && flag.chars().noneMatch(DemoFolder::atomSpecial);
    if (flag.startsWith("\\") || !atom) {
      throw new ImapSyntaxException("Invalid flag.");
    }
    return flag;
  }

  private static boolean atomSpecial(int c) {
    return c <= ' ' || c > '~' || "(){%*\"\\]".indexOf(c) >= 0;
  }
}
