package io.postern.relay;

import io.vertx.core.buffer.Buffer;

/**
 * Follows the backend's byte stream to know where one response ends and the next begins: the
 * only points where a relay may be ended with a last word of Postern's own (IMAP {@code * BYE})
 * without cutting a response in two. The protocol supplies it; the relay only feeds it. It runs
 * on every byte the backend sends, so it must cost little: a protocol skips the bulk of a
 * response (an IMAP literal) by its announced length rather than look at its bytes.
 */
public interface ResponseBoundaries {

  /**
   * Follows {@code data}, the next bytes from the backend. Without {@code stop}, all of it, and
   * returns its length; with {@code stop}, up to the first point between two responses that
   * comes after at least one byte, and returns how many bytes that is (all of them when there is
   * no such point in {@code data}).
   */
  int follow(Buffer data, boolean stop);

  /** True when the bytes followed so far end between two responses (or none came yet). */
  boolean between();
}
