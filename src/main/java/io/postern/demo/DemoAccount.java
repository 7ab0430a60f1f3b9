package io.postern.demo;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The single account of the demo mailbox. */
final class DemoAccount {

  private DemoAccount() {}

  /** Constant-time on the password so the demo does not teach timing leaks by example. */
  static boolean matches(String user, byte[] password) {
    boolean passwordOk =
        MessageDigest.isEqual(password, DemoMailbox.PASSWORD.getBytes(StandardCharsets.UTF_8));
    return DemoMailbox.USER.equals(user) & passwordOk;
  }

  /** User names reach the log; keep control characters from forging log lines. */
  static String loggable(String user) {
    StringBuilder out = new StringBuilder();
    user.codePoints()
        .limit(64)
        .forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return out.toString();
  }
}
