package io.postern.sasl;

import java.nio.charset.StandardCharsets;

/** The initial response of IMAP SASL-IR (RFC 4959) and POP3 AUTH (RFC 5034), as sent. */
public final class SaslInitialResponse {

  private SaslInitialResponse() {}

  /** The base64 text as bytes; a lone {@code =} stands for an empty response. */
  public static byte[] bytes(String sent) {
    return sent.equals("=") ? new byte[0] : sent.getBytes(StandardCharsets.US_ASCII);
  }
}
