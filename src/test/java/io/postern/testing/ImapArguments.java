package io.postern.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Reads the two LOGIN arguments as a fake server: atoms, quoted strings or literals. */
final class ImapArguments {

  private ImapArguments() {}

  static String[] read(Conversation c, String rest) throws IOException {
    String[] out = new String[2];
    String text = rest;
    for (int i = 0; i < 2; i++) {
      text = text.stripLeading();
      if (text.startsWith("\"")) {
        StringBuilder s = new StringBuilder();
        int j = 1;
        while (text.charAt(j) != '"') {
          if (text.charAt(j) == '\\') {
            j++;
          }
          s.append(text.charAt(j++));
        }
        out[i] = s.toString();
        text = text.substring(j + 1);
      } else if (text.startsWith("{")) {
        int close = text.indexOf('}');
        String len = text.substring(1, close);
        boolean sync = !len.endsWith("+");
        int n = Integer.parseInt(sync ? len : len.substring(0, len.length() - 1));
        if (sync) {
          c.send("+ go ahead\r\n");
        }
        out[i] = new String(c.readBytes(n), StandardCharsets.UTF_8);
        // What follows a literal is the rest of the command line, CRLF included.
        text = c.readLine();
      } else {
        int space = text.indexOf(' ');
        out[i] = space < 0 ? text : text.substring(0, space);
        text = space < 0 ? "" : text.substring(space);
      }
    }
    return out;
  }
}
