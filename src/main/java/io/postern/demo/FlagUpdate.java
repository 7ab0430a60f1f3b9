package io.postern.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The flag change of a STORE command.
 *
 * @param mode how the flags combine with the existing ones
 * @param silent true for the {@code .SILENT} variants, which suppress the untagged FETCH
 * @param flags canonical flag names
 */
record FlagUpdate(Mode mode, boolean silent, List<String> flags) {

  enum Mode {
    REPLACE,
    ADD,
    REMOVE
  }

  FlagUpdate {
    flags = List.copyOf(flags);
  }

  /** Parses {@code [+|-]FLAGS[.SILENT]} followed by a flag list or bare flags. */
  static FlagUpdate parse(String item, List<ImapToken> rest) throws ImapSyntaxException {
    boolean silent = item.endsWith(".SILENT");
    String base = silent ? item.substring(0, item.length() - ".SILENT".length()) : item;
    Mode mode =
        switch (base) {
          case "FLAGS" -> Mode.REPLACE;
          case "+FLAGS" -> Mode.ADD;
          case "-FLAGS" -> Mode.REMOVE;
          default -> throw new ImapSyntaxException("Invalid STORE item.");
        };
    List<ImapToken> tokens = rest;
    if (rest.size() == 1 && rest.get(0) instanceof ImapToken.Group group) {
      tokens = group.items();
    }
    List<String> flags = new ArrayList<>();
    for (ImapToken token : tokens) {
      if (!(token instanceof ImapToken.Atom atom)) {
        throw new ImapSyntaxException("Invalid flag list.");
      }
      flags.add(DemoFolder.canonicalFlag(atom.value()));
    }
    if (flags.isEmpty() && mode != Mode.REPLACE) {
      throw new ImapSyntaxException("Missing flags.");
    }
    return new FlagUpdate(mode, silent, flags);
  }

  void applyTo(Set<String> target) {
    switch (mode) {
      case REPLACE -> {
        target.clear();
        target.addAll(flags);
      }
      case ADD -> target.addAll(flags);
      case REMOVE -> flags.forEach(target::remove);
    }
  }
}
