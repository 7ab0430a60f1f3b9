package io.postern.imap;

/** A literal announcement, {@code {n}} or {@code {n+}}, at the very end of a command line. */
record LiteralMarker(long length, boolean synchronising, int start) {

  /** Beyond this a length is "too big" whatever the limit; it also keeps the arithmetic in range. */
  private static final int MAX_DIGITS = 10;

  /** The marker that ends {@code text}, or null if the text does not end with one. */
  static LiteralMarker at(byte[] text) {
    int close = text.length - 1;
    if (close < 2 || text[close] != '}') {
      return null;
    }
    int digitsEnd = close;
    boolean sync = true;
    if (text[close - 1] == '+') {
      sync = false;
      digitsEnd = close - 1;
    }
    int i = digitsEnd - 1;
    while (i >= 0 && text[i] >= '0' && text[i] <= '9') {
      i--;
    }
    int digits = digitsEnd - 1 - i;
    if (i < 0 || text[i] != '{' || digits == 0) {
      return null;
    }
    long length = 0;
    for (int d = i + 1; d < digitsEnd; d++) {
      if (d - (i + 1) >= MAX_DIGITS && length > 0) {
        return new LiteralMarker(Long.MAX_VALUE, sync, i);
      }
      length = length * 10 + (text[d] - '0');
    }
    return new LiteralMarker(length, sync, i);
  }
}
