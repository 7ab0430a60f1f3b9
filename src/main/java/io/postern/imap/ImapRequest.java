package io.postern.imap;

import io.postern.credentials.Secret;
import java.util.List;

/** The commands Postern answers before login, parsed from a frame. */
public sealed interface ImapRequest {

  /** The command's tag, or null when the line had no usable tag. */
  String tag();

  record Capability(String tag) implements ImapRequest {}

  record Noop(String tag) implements ImapRequest {}

  record Logout(String tag) implements ImapRequest {}

  record StartTls(String tag) implements ImapRequest {}

  /** LOGIN; the user is raw bytes (UTF-8 expected), the password never printable. */
  record Login(String tag, byte[] user, Secret password) implements ImapRequest {
    @Override
    public String toString() {
      return "Login[tag=" + tag + "]";
    }
  }

  /** AUTHENTICATE; {@code initialResponse} is null without SASL-IR, empty for "=". */
  record Authenticate(String tag, String mechanism, byte[] initialResponse)
      implements ImapRequest {
    @Override
    public String toString() {
      return "Authenticate[tag=" + tag + ", mechanism=" + mechanism + "]";
    }
  }

  /** ID; the client's field/value list (values may be null for NIL), null for {@code ID NIL}. */
  record Id(String tag, List<byte[]> fields) implements ImapRequest {}

  /** A well-formed command Postern does not accept before login. */
  record NotAllowed(String tag, String command) implements ImapRequest {}

  /** A line that is not valid IMAP; {@code message} is Postern's own text, safe to send. */
  record Invalid(String tag, String message) implements ImapRequest {}
}
