package io.postern.session;

import io.postern.sasl.SaslMechanism;

/**
 * A SASL exchange in progress: the command's tag (null in POP3), the mechanism's name as the
 * client gave it (for meters and logs), and the mechanism with its own state. One value, made
 * for one attempt and dropped when it ends, so nothing of it survives into the next.
 */
record SaslExchange(String tag, String mechanismName, SaslMechanism mechanism) {

  @Override
  public String toString() {
    return "SaslExchange[tag=" + tag + ", mechanism=" + mechanismName + "]";
  }
}
