package io.postern.demo;

import jakarta.mail.Message.RecipientType;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimeUtility;
import java.io.UnsupportedEncodingException;
import java.util.List;
import java.util.Properties;

/**
 * The three messages the demo mailbox starts with. Every header that names a message (Date,
 * Message-ID, the multipart boundary) is fixed, so the bytes, and the sizes clients see, are the
 * same on every start.
 */
final class DemoMessages {

  /** Subject of message 2 before RFC 2047 encoding. */
  static final String INTERNATIONAL_SUBJECT = "Grüße aus Zürich ✉";

  private static final Session SESSION = Session.getInstance(new Properties());
  private static final InternetAddress POSTERN = address("postern@demo.invalid", "Postern");
  private static final InternetAddress DEMO_USER = address("demo@demo.invalid", "Demo User");

  private DemoMessages() {}

  /** New copies each call: jakarta.mail messages are mutable. */
  static List<MimeMessage> all() throws MessagingException {
    return List.of(welcome(), international(), withAttachment());
  }

  private static MimeMessage welcome() throws MessagingException {
    MimeMessage m = message("Mon, 01 Jan 2024 09:00:00 +0000", POSTERN,
        "<welcome-1@demo.invalid>");
    m.setSubject("Welcome to Postern");
    m.setText(crlf("""
        Hello, and welcome to Postern!

        Postern is a POP3 and IMAP proxy: it terminates TLS, authenticates
        you, and relays your session to a backend mail server.

        If you can read this, your mail client reached this message through
        the proxy. Postern runs in demo mode (--demo), and the backend behind
        it is a tiny mailbox built into Postern itself. It holds three
        messages for the user "demo" (password "demo") and forgets every
        change, such as flags or deletions, when Postern stops.

        Point a real IMAP or POP3 client at Postern to see it relay, then
        configure a real backend server when you are ready.

        The Postern demo mailbox
        """), "US-ASCII");
    return m;
  }

  private static MimeMessage international() throws MessagingException {
    MimeMessage m = message("Tue, 02 Jan 2024 10:30:00 +0100",
        address("jose@demo.invalid", "José Müller"), "<international-2@demo.invalid>");
    // One B-encoded word, as before; setSubject would pick Q for this mostly-ASCII text.
    m.setHeader("Subject", encodeB(INTERNATIONAL_SUBJECT));
    m.setText(crlf("""
        Grüße aus Zürich!

        This message has a subject encoded as an RFC 2047 encoded word and a
        body in raw 8-bit UTF-8, to show that Postern relays every byte as is:

          Deutsch:  Äpfel, Öl und Übermut
          Français: déjà vu, naïve façade
          Ελληνικά: καλημέρα
          日本語:   こんにちは

        José
        """), "UTF-8");
    // After setText, which drops it; jakarta.mail would otherwise choose quoted-printable.
    m.setHeader("Content-Transfer-Encoding", "8bit");
    return m;
  }

  private static MimeMessage withAttachment() throws MessagingException {
    MimeMessage m = message("Wed, 03 Jan 2024 14:15:00 +0000", POSTERN,
        "<attachment-3@demo.invalid>");
    m.setSubject("Notes for trying Postern (with attachment)");
    MimeBodyPart text = new MimeBodyPart();
    text.setText(crlf("This message carries a small text attachment, notes.txt.\n"), "US-ASCII");
    MimeBodyPart notes = new MimeBodyPart();
    // The lines starting with a dot show POP3's byte-stuffing at work.
    notes.setText(crlf("""
        Postern demo notes
        - The demo user is "demo" with the password "demo".
        - Flags and deletions last until Postern stops; a restart brings
          back all three messages.
        - POP3 escapes lines that begin with a dot, like the next two:
        .
        ..and this one.
        """), "US-ASCII");
    notes.setDisposition(Part.ATTACHMENT);
    notes.setFileName("notes.txt");
    MimeMultipart mixed = new FixedBoundary("postern-demo-boundary");
    mixed.setPreamble("This is a multi-part message in MIME format.\r\n\r\n");
    mixed.addBodyPart(text);
    mixed.addBodyPart(notes);
    m.setContent(mixed);
    return m;
  }

  private static MimeMessage message(String date, InternetAddress from, String messageId)
      throws MessagingException {
    MimeMessage m = new FixedIdMessage();
    // As text, not setSentDate: that would write "1 Jan 2024 ... (UTC)".
    m.setHeader("Date", date);
    m.setFrom(from);
    m.setRecipient(RecipientType.TO, DEMO_USER);
    m.setHeader("Message-ID", messageId);
    return m;
  }

  private static InternetAddress address(String address, String name) {
    try {
      return new InternetAddress(address, name, "UTF-8");
    } catch (UnsupportedEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String encodeB(String text) {
    try {
      return MimeUtility.encodeText(text, "UTF-8", "B");
    } catch (UnsupportedEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Text blocks end lines with LF; mail needs CRLF, and 7bit/8bit bodies are written as given. */
  private static String crlf(String text) {
    return text.replace("\n", "\r\n");
  }

  /** Keeps our Message-ID: saving a message would otherwise replace it with a random one. */
  private static final class FixedIdMessage extends MimeMessage {

    FixedIdMessage() {
      super(SESSION);
    }

    @Override
    protected void updateMessageID() {
      // the one set by message(...) stays
    }
  }

  /** A multipart with a known boundary instead of a random one. */
  private static final class FixedBoundary extends MimeMultipart {

    FixedBoundary(String boundary) {
      contentType = "multipart/mixed; boundary=\"" + boundary + "\"";
    }
  }
}
