package io.postern.imap;

import io.postern.credentials.Secret;
import io.postern.imap.ImapTokenizer.SyntaxError;
import io.postern.sasl.SaslInitialResponse;
import java.util.List;
import java.util.Locale;

/** Parses a complete frame into an {@link ImapRequest}; never throws. */
public final class ImapRequests {

  /** RFC 2971 §3.3: at most 30 field/value pairs. */
  static final int MAX_ID_PAIRS = 30;

  private ImapRequests() {}

  public static ImapRequest parse(ImapFrame frame) {
    ImapTokenizer words = new ImapTokenizer(frame);
    String tag;
    try {
      tag = words.tag();
    } catch (SyntaxError e) {
      return new ImapRequest.Invalid(null, e.getMessage());
    }
    try {
      words.space();
      String command = words.atom().toUpperCase(Locale.ROOT);
      ImapRequest request = switch (command) {
        case "CAPABILITY" -> new ImapRequest.Capability(tag);
        case "NOOP" -> new ImapRequest.Noop(tag);
        case "LOGOUT" -> new ImapRequest.Logout(tag);
        case "STARTTLS" -> new ImapRequest.StartTls(tag);
        case "LOGIN" -> login(tag, words);
        case "AUTHENTICATE" -> authenticate(tag, words);
        case "ID" -> id(tag, words);
        default -> null;
      };
      if (request == null) {
        return new ImapRequest.NotAllowed(tag, command);
      }
      if (words.more()) {
        return new ImapRequest.Invalid(tag, "Too many arguments.");
      }
      return request;
    } catch (SyntaxError e) {
      return new ImapRequest.Invalid(tag, e.getMessage());
    }
  }

  private static ImapRequest login(String tag, ImapTokenizer words) throws SyntaxError {
    words.space();
    byte[] user = words.userName();
    words.space();
    byte[] password = words.astring();
    return new ImapRequest.Login(tag, user, Secret.of(password));
  }

  private static ImapRequest authenticate(String tag, ImapTokenizer words) throws SyntaxError {
    words.space();
    String mechanism = words.atom().toUpperCase(Locale.ROOT);
    byte[] initial = null;
    if (words.more()) {
      // RFC 9051 §6.2.2: the initial response is base64 in an atom, never quoted or a literal.
      initial = SaslInitialResponse.bytes(words.atom());
    }
    return new ImapRequest.Authenticate(tag, mechanism, initial);
  }

  private static ImapRequest id(String tag, ImapTokenizer words) throws SyntaxError {
    words.space();
    List<byte[]> fields = words.list();
    if (fields != null && (fields.size() % 2 != 0 || fields.size() > 2 * MAX_ID_PAIRS)) {
      throw new SyntaxError("ID takes up to 30 field/value pairs.");
    }
    if (fields != null) {
      for (int i = 0; i < fields.size(); i += 2) {
        if (fields.get(i) == null) {
          throw new SyntaxError("ID field names cannot be NIL.");
        }
      }
    }
    return new ImapRequest.Id(tag, fields);
  }
}
