package io.postern.demo;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Assembles one IMAP command from its lines and literals, inlined as {@code {n}CRLF<bytes>} for
 * {@link ImapParser}. The assembled command never exceeds {@code maxCommand} bytes.
 */
final class ImapCommandReader {

  /** What the session must do after a line. */
  sealed interface Step {}

  /** The command is complete. */
  record Complete(byte[] command) implements Step {}

  /** A literal of {@code size} bytes follows; a synchronizing one needs a continuation first. */
  record AwaitLiteral(int size, boolean synchronizing) implements Step {}

  /** A synchronizing literal is too large; the client will not send it, so answer BAD and go on. */
  record Refuse(String tag) implements Step {}

  /** A non-synchronizing literal or the command is too large; the bytes are already coming. */
  record Abort() implements Step {}

  private static final Pattern LITERAL = Pattern.compile("\\{(\\d{1,10})(\\+?)\\}$");

  private final int maxLiteral;
  private final int maxCommand;
  private Buffer pending = Buffer.buffer();

  ImapCommandReader(int maxLiteral, int maxCommand) {
    this.maxLiteral = maxLiteral;
    this.maxCommand = maxCommand;
  }

  Step line(byte[] line) {
    if (pending.length() + line.length > maxCommand) {
      pending = Buffer.buffer();
      return new Abort();
    }
    pending.appendBytes(line);
    // Only the tail can hold a literal marker; atoms cannot contain '{', so no quoting to track.
    int tail = Math.max(0, line.length - 16);
    String end = new String(line, tail, line.length - tail, StandardCharsets.ISO_8859_1);
    Matcher literal = LITERAL.matcher(end);
    if (!literal.find()) {
      byte[] command = pending.getBytes();
      pending = Buffer.buffer();
      return new Complete(command);
    }
    long size = Long.parseLong(literal.group(1));
    boolean synchronizing = literal.group(2).isEmpty();
    if (size > maxLiteral || pending.length() + 2 + size > maxCommand) {
      String tag = ImapParser.tagOf(pending.getBytes());
      pending = Buffer.buffer();
      return synchronizing ? new Refuse(tag == null ? "*" : tag) : new Abort();
    }
    pending.appendString("\r\n");
    return new AwaitLiteral((int) size, synchronizing);
  }

  /** The literal's bytes; the line after it continues the same command. */
  void literal(byte[] data) {
    pending.appendBytes(data);
  }
}
