package io.postern.demo;

import java.time.ZonedDateTime;
import java.util.Arrays;

/**
 * One fixed message of the demo mailbox.
 *
 * @param uid IMAP UID, also the POP3 message number since nothing is ever really deleted
 * @param raw the RFC 5322 bytes, CRLF line ends; accessors hand out slices, never the array
 * @param internalDate the IMAP INTERNALDATE
 * @param mime the parsed structure, as offsets into {@code raw}
 */
record DemoMessage(long uid, byte[] raw, ZonedDateTime internalDate, MimeEntity mime) {

  DemoMessage {
    raw = raw.clone();
  }

  static DemoMessage of(long uid, byte[] raw, ZonedDateTime internalDate) {
    return new DemoMessage(uid, raw, internalDate, MimeEntity.parse(raw));
  }

  @Override
  public byte[] raw() {
    return raw.clone();
  }

  int size() {
    return raw.length;
  }

  byte[] slice(int from, int to) {
    return Arrays.copyOfRange(raw, from, to);
  }

  byte[] header() {
    return slice(mime.headerStart(), mime.bodyStart());
  }

  byte[] body() {
    return slice(mime.bodyStart(), mime.end());
  }

  /** POP3 unique id: stable across sessions and restarts, as RFC 1939 asks. */
  String uidl() {
    return "postern-demo-" + DemoMessages.UID_VALIDITY + "-" + uid;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DemoMessage m && m.uid == uid && Arrays.equals(m.raw, raw);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(uid) * 31 + Arrays.hashCode(raw);
  }

  @Override
  public String toString() {
    return "DemoMessage[uid=" + uid + ", size=" + raw.length + "]";
  }
}
