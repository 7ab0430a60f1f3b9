package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.util.Base64;
import java.util.List;

/** The three messages every demo session starts with. */
final class DemoMessages {

  /** Constant so that clients keep their caches across restarts of the demo. */
  static final long UID_VALIDITY = 1704067200L;

  static final List<DemoMessage> ALL =
      List.of(
          DemoMessage.of(1, welcome(), ZonedDateTime.parse("2024-01-01T09:00:00Z")),
          DemoMessage.of(2, international(), ZonedDateTime.parse("2024-01-02T10:30:00+01:00")),
          DemoMessage.of(3, withAttachment(), ZonedDateTime.parse("2024-01-03T14:15:00Z")));

  /** Subject of message 2 before RFC 2047 encoding. */
  static final String INTERNATIONAL_SUBJECT = "Grüße aus Zürich ✉";

  private DemoMessages() {}

  static long uidNext() {
    return ALL.get(ALL.size() - 1).uid() + 1;
  }

  private static byte[] welcome() {
    return crlf(
        """
        Date: Mon, 01 Jan 2024 09:00:00 +0000
        From: Postern <postern@demo.invalid>
        To: Demo User <demo@demo.invalid>
        Subject: Welcome to Postern
        Message-ID: <welcome-1@demo.invalid>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=US-ASCII
        Content-Transfer-Encoding: 7bit

        Hello, and welcome to Postern!

        Postern is a POP3 and IMAP proxy: it terminates TLS, authenticates
        you, and relays your session to a backend mail server.

        If you can read this, your mail client reached this message through
        the proxy. Postern runs in demo mode (--demo), and the backend behind
        it is a tiny mailbox built into Postern itself. It holds three
        messages for the user "demo" (password "demo") and forgets every
        change, such as flags or deletions, when you disconnect.

        Point a real IMAP or POP3 client at Postern to see it relay, then
        configure a real backend server when you are ready.

        The Postern demo mailbox
        """);
  }

  private static byte[] international() {
    String subject =
        "=?UTF-8?B?"
            + Base64.getEncoder()
                .encodeToString(INTERNATIONAL_SUBJECT.getBytes(StandardCharsets.UTF_8))
            + "?=";
    String template =
        """
        Date: Tue, 02 Jan 2024 10:30:00 +0100
        From: =?UTF-8?Q?Jos=C3=A9_M=C3=BCller?= <jose@demo.invalid>
        To: Demo User <demo@demo.invalid>
        Subject: %s
        Message-ID: <international-2@demo.invalid>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=UTF-8
        Content-Transfer-Encoding: 8bit

        Grüße aus Zürich!

        This message has a subject encoded as an RFC 2047 encoded word and a
        body in raw 8-bit UTF-8, to show that Postern relays every byte as is:

          Deutsch:  Äpfel, Öl und Übermut
          Français: déjà vu, naïve façade
          Ελληνικά: καλημέρα
          日本語:   こんにちは

        José
        """;
    return crlf(template.formatted(subject));
  }

  private static byte[] withAttachment() {
    return crlf(
        """
        Date: Wed, 03 Jan 2024 14:15:00 +0000
        From: Postern <postern@demo.invalid>
        To: Demo User <demo@demo.invalid>
        Subject: Notes for trying Postern (with attachment)
        Message-ID: <attachment-3@demo.invalid>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="postern-demo-boundary"

        This is a multi-part message in MIME format.

        --postern-demo-boundary
        Content-Type: text/plain; charset=US-ASCII
        Content-Transfer-Encoding: 7bit

        This message carries a small text attachment, notes.txt.

        --postern-demo-boundary
        Content-Type: text/plain; charset=US-ASCII; name="notes.txt"
        Content-Disposition: attachment; filename="notes.txt"
        Content-Transfer-Encoding: 7bit

        Postern demo notes
        - The demo user is "demo" with the password "demo".
        - Flags you set live as long as your session; deleted messages come
          back when you reconnect.
        - POP3 escapes lines that begin with a dot, like the next two:
        .
        ..and this one.

        --postern-demo-boundary--
        """);
  }

  /** Text blocks end lines with LF; mail needs CRLF everywhere. */
  private static byte[] crlf(String text) {
    return text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
  }
}
