package io.postern.demo;

import java.util.List;

/**
 * A complete IMAP command with its literals resolved.
 *
 * @param tag the client's tag
 * @param name the command name in upper case
 * @param args everything after the name
 */
record ImapCommand(String tag, String name, List<ImapToken> args) {

  ImapCommand {
    args = List.copyOf(args);
  }

  ImapArgs arguments() {
    return new ImapArgs(args);
  }
}
