package io.postern.backend;

import io.postern.testing.Conversation;
import io.postern.testing.FakeBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/** Misbehaving backends and small helpers shared by the backend login tests. */
final class BackendFaults {

  private BackendFaults() {}

  /** Accepts and never sends a byte; counts {@code closed} down when Postern hangs up. */
  static FakeBackend.Script silent(CountDownLatch closed) {
    return sendsThenWaits(new byte[0], closed, new ByteArrayOutputStream());
  }

  /**
   * Sends {@code bytes} in one write, then collects whatever arrives (raw, not as lines: it may be
   * a TLS ClientHello) into {@code got} until Postern closes, and counts {@code closed} down.
   */
  static FakeBackend.Script sendsThenWaits(byte[] bytes, CountDownLatch closed,
      ByteArrayOutputStream got) {
    return c -> {
      try {
        if (bytes.length > 0) {
          c.sendRaw(bytes);
        }
        drain(c, got);
      } finally {
        closed.countDown();
      }
    };
  }

  static FakeBackend.Script sendsThenWaits(String text, CountDownLatch closed,
      ByteArrayOutputStream got) {
    return sendsThenWaits(text.getBytes(StandardCharsets.ISO_8859_1), closed, got);
  }

  /** Reads raw bytes until the peer closes (or resets) the connection. */
  static void drain(Conversation c, ByteArrayOutputStream got) {
    byte[] buf = new byte[4096];
    try {
      InputStream in = c.socket().getInputStream();
      int n;
      while ((n = in.read(buf)) > 0) {
        synchronized (got) {
          got.write(buf, 0, n);
        }
      }
    } catch (IOException e) {
      // reset or closed: the end either way
    }
  }

  /** Runs {@code body}; a peer that hung up or a failed handshake just ends the script. */
  static void untilHangUp(FakeBackend.Script body, Conversation c) throws Exception {
    try {
      body.run(c);
    } catch (IOException e) {
      // Postern aborted: what the test wants to see, not a script failure
    }
  }

  static String text(ByteArrayOutputStream got) {
    synchronized (got) {
      return got.toString(StandardCharsets.ISO_8859_1);
    }
  }

  static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
