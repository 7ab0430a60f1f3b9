package io.postern.pop3;

/** Byte-level checks for values Postern writes on POP3 command lines. */
final class Pop3Lines {

  private Pop3Lines() {}

  /** True if {@code value} can follow {@code USER } without ending or splitting the line. */
  static boolean fitsOnLine(byte[] value) {
    if (value.length == 0) {
      return false;
    }
    for (byte b : value) {
      if (b == 0 || b == '\r' || b == '\n') {
        return false;
      }
    }
    return true;
  }
}
