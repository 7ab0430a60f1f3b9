package io.postern.demo;

import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One IMAP4rev1 connection to the demo mailbox. All state is confined to this connection. */
final class DemoImapSession implements LineChannel.Receiver {

  enum State {
    NOT_AUTHENTICATED,
    AUTHENTICATED,
    SELECTED,
    LOGOUT
  }

  /** What the next input line is: a command, or the answer to a continuation request. */
  private enum Awaiting {
    COMMAND,
    SASL_RESPONSE,
    DONE
  }

  static final String CAPABILITIES = "IMAP4rev1 AUTH=PLAIN SASL-IR LITERAL+ ID IDLE";
  static final int MAX_LINE = 8 * 1024;
  static final int MAX_LITERAL = 64 * 1024;

  /** Room for a LOGIN with two maximal literals; nothing else in the demo needs more. */
  static final int MAX_COMMAND = 2 * MAX_LITERAL + MAX_LINE;

  private static final Logger LOG = LoggerFactory.getLogger(DemoImapSession.class);

  private final LineChannel channel;
  private final DemoFolder folder = new DemoFolder(DemoMessages.ALL);
  private final ImapMailboxResponses mailbox = new ImapMailboxResponses(folder);
  private final ImapCommandReader reader = new ImapCommandReader(MAX_LITERAL, MAX_COMMAND);
  private State state = State.NOT_AUTHENTICATED;
  private Awaiting awaiting = Awaiting.COMMAND;
  private String continuationTag;
  private boolean readOnly;

  DemoImapSession(NetSocket socket) {
    this.channel = new LineChannel(socket, MAX_LINE, this);
  }

  void start() {
    channel.start("IMAP");
    channel.send("* OK [CAPABILITY " + CAPABILITIES + "] Postern demo mailbox ready.\r\n");
  }

  @Override
  public void onLine(byte[] line) {
    if (state == State.LOGOUT) {
      return;
    }
    switch (awaiting) {
      case COMMAND -> commandLine(line);
      case SASL_RESPONSE -> finishAuthenticate(new String(line, StandardCharsets.US_ASCII));
      case DONE -> finishIdle(new String(line, StandardCharsets.US_ASCII));
    }
  }

  @Override
  public void onLiteral(byte[] data) {
    reader.literal(data);
  }

  @Override
  public void onLineTooLong() {
    state = State.LOGOUT;
    channel.sendAndClose("* BAD Line too long.\r\n* BYE Closing connection.\r\n");
  }

  private void commandLine(byte[] line) {
    ImapCommandReader.Step step = reader.line(line);
    if (step instanceof ImapCommandReader.Complete complete) {
      execute(complete.command());
    } else if (step instanceof ImapCommandReader.AwaitLiteral literal) {
      channel.expectLiteral(literal.size());
      if (literal.synchronizing()) {
        channel.send("+ Ready for literal data\r\n");
      }
    } else if (step instanceof ImapCommandReader.Refuse refuse) {
      bad(refuse.tag(), "Literal too large.");
    } else {
      state = State.LOGOUT;
      channel.sendAndClose("* BYE Command too large.\r\n");
    }
  }

  private void execute(byte[] raw) {
    ImapCommand command;
    try {
      command = ImapParser.parse(raw);
    } catch (ImapSyntaxException e) {
      String tag = ImapParser.tagOf(raw);
      channel.send((tag == null ? "*" : tag) + " BAD " + e.getMessage() + "\r\n");
      return;
    }
    try {
      dispatch(command);
    } catch (ImapSyntaxException e) {
      bad(command.tag(), e.getMessage());
    }
  }

  private void dispatch(ImapCommand command) throws ImapSyntaxException {
    String tag = command.tag();
    ImapArgs args = command.arguments();
    String name = command.name();
    if (name.equals("UID")) {
      name = "UID " + args.keyword();
    }
    boolean uid = name.startsWith("UID ");
    switch (name) {
      case "CAPABILITY" -> {
        args.end();
        channel.send("* CAPABILITY " + CAPABILITIES + "\r\n");
        ok(tag, "CAPABILITY completed.");
      }
      case "NOOP" -> {
        args.end();
        ok(tag, "NOOP completed.");
      }
      case "CHECK" -> {
        require(List.of(State.SELECTED));
        args.end();
        ok(tag, "CHECK completed.");
      }
      case "LOGOUT" -> {
        args.end();
        state = State.LOGOUT;
        channel.sendAndClose(
            "* BYE Postern demo mailbox signing off.\r\n" + tag + " OK LOGOUT completed.\r\n");
      }
      case "ID" -> {
        args.next();
        args.end();
        channel.send("* ID (\"name\" \"Postern demo mailbox\")\r\n");
        ok(tag, "ID completed.");
      }
      case "LOGIN" -> {
        require(List.of(State.NOT_AUTHENTICATED));
        String user = args.astring();
        byte[] password = args.astringBytes();
        args.end();
        authenticated(tag, user, DemoAccount.matches(user, password));
      }
      case "AUTHENTICATE" -> authenticate(tag, args);
      case "LIST", "LSUB" -> {
        require(List.of(State.AUTHENTICATED, State.SELECTED));
        String reference = args.astring();
        String pattern = args.astring();
        args.end();
        channel.send(mailbox.list(name, reference, pattern));
        ok(tag, name + " completed.");
      }
      case "STATUS" -> {
        require(List.of(State.AUTHENTICATED, State.SELECTED));
        String target = args.astring();
        ImapToken.Group items = args.group();
        args.end();
        if (!ImapMailboxResponses.isInbox(target)) {
          no(tag, "[NONEXISTENT] Mailbox does not exist.");
          return;
        }
        channel.send(mailbox.status(items));
        ok(tag, "STATUS completed.");
      }
      case "SELECT", "EXAMINE" -> select(tag, args, name.equals("EXAMINE"));
      case "SEARCH", "UID SEARCH" -> {
        require(List.of(State.SELECTED));
        var result = mailbox.search(args.rest(), uid);
        if (result.isEmpty()) {
          no(tag, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.");
          return;
        }
        channel.send(result.get());
        ok(tag, name + " completed.");
      }
      case "FETCH", "UID FETCH" -> {
        require(List.of(State.SELECTED));
        SequenceSet set = SequenceSet.parse(args.astring());
        List<FetchItem> items = FetchItem.parseAll(args.next());
        args.end();
        boolean marksSeen = !readOnly && items.stream().anyMatch(FetchItem::setsSeen);
        for (int seq : folder.select(set, uid)) {
          FolderMessage message = folder.at(seq);
          boolean changed = marksSeen && message.flags().add("\\Seen");
          channel.send(FetchResponse.render(seq, message, items, uid, changed));
        }
        ok(tag, name + " completed.");
      }
      case "STORE", "UID STORE" -> {
        require(List.of(State.SELECTED));
        SequenceSet set = SequenceSet.parse(args.astring());
        FlagUpdate update = FlagUpdate.parse(args.keyword(), args.rest());
        if (readOnly) {
          no(tag, "[READ-ONLY] Mailbox was opened with EXAMINE.");
          return;
        }
        channel.send(mailbox.store(folder.select(set, uid), update, uid));
        ok(tag, name + " completed.");
      }
      case "CLOSE", "UNSELECT" -> {
        require(List.of(State.SELECTED));
        args.end();
        if (name.equals("CLOSE") && !readOnly) {
          folder.expunge();
        }
        state = State.AUTHENTICATED;
        ok(tag, name + " completed.");
      }
      case "EXPUNGE" -> {
        require(List.of(State.SELECTED));
        args.end();
        if (readOnly) {
          no(tag, "[READ-ONLY] Mailbox was opened with EXAMINE.");
          return;
        }
        folder.expunge().forEach(seq -> channel.send("* " + seq + " EXPUNGE\r\n"));
        ok(tag, "EXPUNGE completed.");
      }
      case "IDLE" -> {
        require(List.of(State.AUTHENTICATED, State.SELECTED));
        args.end();
        continuationTag = tag;
        awaiting = Awaiting.DONE;
        channel.send("+ idling\r\n");
      }
      case "SUBSCRIBE", "UNSUBSCRIBE" -> {
        require(List.of(State.AUTHENTICATED, State.SELECTED));
        String target = args.astring();
        args.end();
        if (ImapMailboxResponses.isInbox(target)) {
          ok(tag, name + " completed.");
        } else {
          no(tag, "[NONEXISTENT] Mailbox does not exist.");
        }
      }
      case "CREATE", "DELETE", "RENAME", "APPEND", "COPY", "MOVE", "UID COPY", "UID MOVE" -> {
        require(List.of(State.AUTHENTICATED, State.SELECTED));
        no(tag, "[CANNOT] The demo mailbox has only INBOX and cannot store new messages.");
      }
      default -> bad(tag, "Unknown command.");
    }
  }

  private void authenticate(String tag, ImapArgs args) throws ImapSyntaxException {
    require(List.of(State.NOT_AUTHENTICATED));
    String mechanism = args.keyword();
    if (!mechanism.equals("PLAIN")) {
      no(tag, "Unsupported authentication mechanism.");
      return;
    }
    if (args.hasNext()) {
      String initialResponse = args.astring();
      args.end();
      completePlain(tag, initialResponse);
      return;
    }
    continuationTag = tag;
    awaiting = Awaiting.SASL_RESPONSE;
    channel.send("+ \r\n");
  }

  private void finishAuthenticate(String response) {
    awaiting = Awaiting.COMMAND;
    if (response.equals("*")) {
      bad(continuationTag, "Authentication cancelled.");
    } else {
      completePlain(continuationTag, response);
    }
  }

  private void completePlain(String tag, String base64) {
    SaslPlain.decode(base64)
        .ifPresentOrElse(
            plain -> authenticated(tag, plain.authcid(), plain.authenticates()),
            () -> bad(tag, "Invalid SASL PLAIN response."));
  }

  private void authenticated(String tag, String user, boolean success) {
    String shownUser = DemoAccount.loggable(user);
    if (!success) {
      LOG.info("IMAP authentication failed for user '{}'", shownUser);
      no(tag, "[AUTHENTICATIONFAILED] Authentication failed.");
      return;
    }
    LOG.info("IMAP user '{}' logged in to the demo mailbox", shownUser);
    state = State.AUTHENTICATED;
    ok(tag, "[CAPABILITY " + CAPABILITIES + "] Logged in.");
  }

  private void finishIdle(String line) {
    awaiting = Awaiting.COMMAND;
    if (line.equalsIgnoreCase("DONE")) {
      ok(continuationTag, "IDLE terminated.");
    } else {
      bad(continuationTag, "Expected DONE.");
    }
  }

  private void select(String tag, ImapArgs args, boolean examine) throws ImapSyntaxException {
    require(List.of(State.AUTHENTICATED, State.SELECTED));
    String name = args.astring();
    args.end();
    // RFC 3501 6.3.1: a failed SELECT leaves no mailbox selected.
    state = State.AUTHENTICATED;
    if (!ImapMailboxResponses.isInbox(name)) {
      no(tag, "[NONEXISTENT] Mailbox does not exist.");
      return;
    }
    channel.send(mailbox.selected());
    state = State.SELECTED;
    readOnly = examine;
    ok(tag, (examine ? "[READ-ONLY] EXAMINE" : "[READ-WRITE] SELECT") + " completed.");
  }

  private void require(List<State> allowed) throws ImapSyntaxException {
    if (allowed.contains(state)) {
      return;
    }
    if (state == State.NOT_AUTHENTICATED) {
      throw new ImapSyntaxException("Log in first.");
    }
    throw new ImapSyntaxException(
        allowed.contains(State.SELECTED) ? "No mailbox selected." : "Already authenticated.");
  }

  private void ok(String tag, String text) {
    channel.send(tag + " OK " + text + "\r\n");
  }

  private void no(String tag, String text) {
    channel.send(tag + " NO " + text + "\r\n");
  }

  private void bad(String tag, String text) {
    channel.send(tag + " BAD " + text + "\r\n");
  }
}
