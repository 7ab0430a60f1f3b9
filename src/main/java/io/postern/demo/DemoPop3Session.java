package io.postern.demo;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One POP3 connection to the demo mailbox (RFC 1939, 2449, 5034). */
final class DemoPop3Session implements LineChannel.Receiver {

  enum State {
    AUTHORIZATION,
    TRANSACTION
  }

  static final int MAX_LINE = 8 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(DemoPop3Session.class);
  private static final String CAPABILITIES =
      "USER\r\nSASL PLAIN\r\nUIDL\r\nTOP\r\nRESP-CODES\r\nPIPELINING\r\n";

  private final LineChannel channel;
  private final List<DemoMessage> messages = DemoMessages.ALL;

  /** DELE marks of this session; nothing is ever removed from the shared messages. */
  private final Set<Long> deleted = new HashSet<>();

  private State state = State.AUTHORIZATION;
  private String user;
  private boolean awaitingSaslResponse;

  DemoPop3Session(NetSocket socket) {
    this.channel = new LineChannel(socket, MAX_LINE, this);
  }

  void start() {
    channel.start("POP3");
    channel.send("+OK Postern demo mailbox ready.\r\n");
  }

  @Override
  public void onLine(byte[] line) {
    String text = new String(line, StandardCharsets.UTF_8);
    if (awaitingSaslResponse) {
      awaitingSaslResponse = false;
      if (text.equals("*")) {
        err("Authentication cancelled.");
      } else {
        completePlain(text);
      }
      return;
    }
    int space = text.indexOf(' ');
    String command = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
    String argument = space < 0 ? "" : text.substring(space + 1);
    switch (command) {
      case "CAPA" -> channel.send("+OK Capability list follows\r\n" + CAPABILITIES + ".\r\n");
      case "USER" -> {
        if (inState(State.AUTHORIZATION) && !argument.isEmpty()) {
          user = argument;
          ok("Send your password.");
        } else if (state == State.AUTHORIZATION) {
          err("Missing user name.");
        }
      }
      case "PASS" -> {
        if (!inState(State.AUTHORIZATION)) {
          return;
        }
        if (user == null) {
          err("Send USER first.");
          return;
        }
        // RFC 1939: the password is the rest of the line and may contain spaces.
        byte[] password = Arrays.copyOfRange(line, Math.min(line.length, 5), line.length);
        authenticated(user, DemoAccount.matches(user, password));
      }
      case "AUTH" -> auth(argument);
      case "STAT" -> {
        if (inState(State.TRANSACTION)) {
          ok(live().size() + " " + live().stream().mapToInt(DemoMessage::size).sum());
        }
      }
      case "LIST", "UIDL" -> {
        if (inState(State.TRANSACTION)) {
          listing(command, argument);
        }
      }
      case "RETR" -> {
        if (inState(State.TRANSACTION)) {
          message(argument).ifPresent(m -> multiline(m.size() + " octets", m.raw()));
        }
      }
      case "TOP" -> {
        if (inState(State.TRANSACTION)) {
          top(argument);
        }
      }
      case "DELE" -> {
        if (inState(State.TRANSACTION)) {
          message(argument)
              .ifPresent(
                  m -> {
                    deleted.add(m.uid());
                    ok("Message " + m.uid() + " deleted.");
                  });
        }
      }
      case "NOOP" -> {
        if (inState(State.TRANSACTION)) {
          ok("");
        }
      }
      case "RSET" -> {
        if (inState(State.TRANSACTION)) {
          deleted.clear();
          ok(messages.size() + " messages.");
        }
      }
      case "QUIT" -> channel.sendAndClose("+OK Postern demo mailbox signing off.\r\n");
      default -> err("Unknown command.");
    }
  }

  @Override
  public void onLiteral(byte[] data) {
    throw new IllegalStateException("POP3 has no literals");
  }

  @Override
  public void onLineTooLong() {
    channel.sendAndClose("-ERR Line too long.\r\n");
  }

  private void auth(String argument) {
    if (!inState(State.AUTHORIZATION)) {
      return;
    }
    if (argument.isEmpty()) {
      channel.send("+OK Supported mechanisms follow\r\nPLAIN\r\n.\r\n");
      return;
    }
    String[] words = argument.split(" ", 2);
    if (!words[0].equalsIgnoreCase("PLAIN")) {
      err("Unsupported authentication mechanism.");
    } else if (words.length == 2) {
      completePlain(words[1]);
    } else {
      awaitingSaslResponse = true;
      channel.send("+ \r\n");
    }
  }

  private void completePlain(String base64) {
    SaslPlain.decode(base64)
        .ifPresentOrElse(
            plain -> authenticated(plain.authcid(), plain.authenticates()),
            () -> err("Invalid SASL PLAIN response."));
  }

  private void authenticated(String name, boolean success) {
    String shownUser = DemoAccount.loggable(name);
    user = null;
    if (!success) {
      LOG.info("POP3 authentication failed for user '{}'", shownUser);
      err("[AUTH] Authentication failed.");
      return;
    }
    LOG.info("POP3 user '{}' logged in to the demo mailbox", shownUser);
    state = State.TRANSACTION;
    ok("Logged in, " + messages.size() + " messages.");
  }

  private void listing(String command, String argument) {
    boolean uidl = command.equals("UIDL");
    if (!argument.isEmpty()) {
      message(argument).ifPresent(m -> ok(m.uid() + " " + (uidl ? m.uidl() : m.size())));
      return;
    }
    List<DemoMessage> live = live();
    StringBuilder out = new StringBuilder("+OK");
    if (!uidl) {
      out.append(' ')
          .append(live.size())
          .append(" messages (")
          .append(live.stream().mapToInt(DemoMessage::size).sum())
          .append(" octets)");
    }
    out.append("\r\n");
    for (DemoMessage m : live) {
      out.append(m.uid()).append(' ').append(uidl ? m.uidl() : m.size()).append("\r\n");
    }
    channel.send(out.append(".\r\n").toString());
  }

  private void top(String argument) {
    String[] words = argument.split(" ");
    if (words.length != 2 || !words[1].matches("[0-9]{1,9}")) {
      err("Usage: TOP message lines.");
      return;
    }
    int lines = Integer.parseInt(words[1]);
    message(words[0])
        .ifPresent(
            m -> {
              byte[] body = m.body();
              int end = 0;
              for (int taken = 0; taken < lines && end < body.length; taken++) {
                int lf = end;
                while (lf < body.length && body[lf] != '\n') {
                  lf++;
                }
                end = Math.min(body.length, lf + 1);
              }
              Buffer data = Buffer.buffer(m.header()).appendBytes(body, 0, end);
              multiline("Top of message follows", data.getBytes());
            });
  }

  /** Sends a multi-line response, dot-stuffed and terminated as RFC 1939 3 requires. */
  private void multiline(String status, byte[] data) {
    Buffer out = Buffer.buffer(data.length + 64).appendString("+OK " + status + "\r\n");
    boolean lineStart = true;
    for (byte b : data) {
      if (lineStart && b == '.') {
        out.appendByte((byte) '.');
      }
      out.appendByte(b);
      lineStart = b == '\n';
    }
    if (!lineStart) {
      out.appendString("\r\n");
    }
    channel.send(out.appendString(".\r\n"));
  }

  /** The message a number names, or empty after sending -ERR. */
  private Optional<DemoMessage> message(String number) {
    if (number.matches("[1-9][0-9]{0,8}")) {
      int n = Integer.parseInt(number);
      if (n <= messages.size() && !deleted.contains(messages.get(n - 1).uid())) {
        return Optional.of(messages.get(n - 1));
      }
    }
    err("No such message.");
    return Optional.empty();
  }

  private List<DemoMessage> live() {
    return messages.stream().filter(m -> !deleted.contains(m.uid())).toList();
  }

  private boolean inState(State required) {
    if (state != required) {
      err("Command not valid in this state.");
      return false;
    }
    return true;
  }

  private void ok(String text) {
    channel.send(text.isEmpty() ? "+OK\r\n" : "+OK " + text + "\r\n");
  }

  private void err(String text) {
    channel.send("-ERR " + text + "\r\n");
  }
}
