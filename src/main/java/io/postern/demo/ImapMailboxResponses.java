package io.postern.demo;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** Untagged responses about INBOX: LIST, STATUS, SELECT, SEARCH and STORE results. */
final class ImapMailboxResponses {

  private final DemoFolder folder;

  ImapMailboxResponses(DemoFolder folder) {
    this.folder = folder;
  }

  /** INBOX is case-insensitive (RFC 3501 5.1); it is the only mailbox. */
  static boolean isInbox(String name) {
    return name.equalsIgnoreCase("INBOX");
  }

  Buffer list(String command, String reference, String pattern) {
    if (pattern.isEmpty()) {
      // An empty pattern asks only for the hierarchy delimiter; LSUB has no such special case.
      return Buffer.buffer(command.equals("LIST") ? "* LIST (\\Noselect) \"/\" \"\"\r\n" : "");
    }
    if (!wildcard(reference + pattern).matcher("INBOX").matches()) {
      return Buffer.buffer();
    }
    String attributes = command.equals("LIST") ? "(\\HasNoChildren)" : "()";
    return Buffer.buffer("* " + command + " " + attributes + " \"/\" INBOX\r\n");
  }

  Buffer status(ImapToken.Group items) throws ImapSyntaxException {
    StringBuilder out = new StringBuilder("* STATUS INBOX (");
    String separator = "";
    for (ImapToken token : items.items()) {
      String item =
          token instanceof ImapToken.Atom atom ? atom.value().toUpperCase(Locale.ROOT) : "";
      long value =
          switch (item) {
            case "MESSAGES" -> folder.exists();
            case "RECENT" -> 0;
            case "UIDNEXT" -> folder.uidNext();
            case "UIDVALIDITY" -> DemoMessages.UID_VALIDITY;
            case "UNSEEN" -> folder.unseen();
            default -> throw new ImapSyntaxException("Unsupported STATUS item.");
          };
      out.append(separator).append(item).append(' ').append(value);
      separator = " ";
    }
    return Buffer.buffer(out.append(")\r\n").toString());
  }

  Buffer selected() {
    StringBuilder out = new StringBuilder();
    out.append("* FLAGS (").append(String.join(" ", DemoFolder.SYSTEM_FLAGS)).append(")\r\n");
    // Nothing survives the session, so no flag is permanent (RFC 3501 7.1).
    out.append("* OK [PERMANENTFLAGS ()] Flags last only for this session.\r\n");
    out.append("* ").append(folder.exists()).append(" EXISTS\r\n");
    out.append("* 0 RECENT\r\n");
    int firstUnseen = folder.firstUnseen();
    if (firstUnseen > 0) {
      out.append("* OK [UNSEEN ").append(firstUnseen).append("] First unseen message.\r\n");
    }
    out.append("* OK [UIDVALIDITY ").append(DemoMessages.UID_VALIDITY).append("] UIDs valid.\r\n");
    out.append("* OK [UIDNEXT ").append(folder.uidNext()).append("] Predicted next UID.\r\n");
    return Buffer.buffer(out.toString());
  }

  /** The untagged SEARCH response, or empty when the requested charset is not supported. */
  Optional<Buffer> search(List<ImapToken> keys, boolean byUid) throws ImapSyntaxException {
    if (!keys.isEmpty()
        && keys.get(0) instanceof ImapToken.Atom atom
        && atom.value().equalsIgnoreCase("CHARSET")) {
      ImapArgs args = new ImapArgs(keys.subList(1, keys.size()));
      String charset = args.astring().toUpperCase(Locale.ROOT);
      if (!charset.equals("UTF-8") && !charset.equals("US-ASCII")) {
        return Optional.empty();
      }
      keys = args.rest();
    }
    SearchQuery query = SearchQuery.parse(keys);
    StringBuilder out = new StringBuilder("* SEARCH");
    for (int seq = 1; seq <= folder.exists(); seq++) {
      FolderMessage message = folder.at(seq);
      var candidate = new SearchQuery.Candidate(seq, message, folder.exists(), folder.largestUid());
      if (query.matches(candidate)) {
        out.append(' ').append(byUid ? message.uid() : seq);
      }
    }
    return Optional.of(Buffer.buffer(out.append("\r\n").toString()));
  }

  Buffer store(List<Integer> seqs, FlagUpdate update, boolean byUid) {
    StringBuilder out = new StringBuilder();
    for (int seq : seqs) {
      FolderMessage message = folder.at(seq);
      update.applyTo(message.flags());
      if (!update.silent()) {
        out.append("* ").append(seq).append(" FETCH (");
        if (byUid) {
          out.append("UID ").append(message.uid()).append(' ');
        }
        out.append("FLAGS ").append(message.flagList()).append(")\r\n");
      }
    }
    return Buffer.buffer(out.toString());
  }

  /** A LIST pattern as a regex: {@code *} matches anything, {@code %} anything but "/". */
  private static Pattern wildcard(String pattern) {
    StringBuilder regex = new StringBuilder();
    for (char c : pattern.toCharArray()) {
      switch (c) {
        case '*' -> regex.append(".*");
        case '%' -> regex.append("[^/]*");
        default -> regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE);
  }
}
