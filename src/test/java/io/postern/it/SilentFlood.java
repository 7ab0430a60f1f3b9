package io.postern.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Silent TCP connections from one local address to a listener that waits for the client to
 * speak first (implicit TLS): a flood that hoards slots. Tells, without blocking, which of them
 * the server has ended (reset or closed) and which it still holds.
 */
final class SilentFlood implements AutoCloseable {

  private final List<SocketChannel> channels = new ArrayList<>();
  private final Set<SocketChannel> ended = new HashSet<>();
  private final Selector selector;

  private SilentFlood() throws IOException {
    selector = Selector.open();
  }

  /** Opens {@code count} connections from {@code from} (e.g. 127.0.0.5) to loopback {@code port}. */
  static SilentFlood open(String from, int port, int count) throws IOException {
    SilentFlood flood = new SilentFlood();
    try {
      InetSocketAddress listener = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
      InetSocketAddress local = new InetSocketAddress(InetAddress.getByName(from), 0);
      for (int i = 0; i < count; i++) {
        SocketChannel channel = SocketChannel.open();
        flood.channels.add(channel);
        channel.bind(local);
        try {
          channel.socket().connect(listener, 10_000);
        } catch (IOException resetAlready) {
          flood.ended.add(channel);
          continue;
        }
        channel.configureBlocking(false);
        channel.register(flood.selector, SelectionKey.OP_READ);
      }
      return flood;
    } catch (IOException | RuntimeException e) {
      flood.close();
      throw e;
    }
  }

  /**
   * Waits until the server has ended at least {@code count} of the connections, or
   * {@code within} has passed; returns how many it has ended.
   */
  int awaitEnded(int count, Duration within) throws IOException {
    long deadline = System.nanoTime() + within.toNanos();
    while (ended.size() < count && System.nanoTime() < deadline) {
      selector.select(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      for (SelectionKey key : selector.selectedKeys()) {
        SocketChannel channel = (SocketChannel) key.channel();
        if (endedByServer(channel)) {
          ended.add(channel);
          key.cancel();
        }
      }
      selector.selectedKeys().clear();
    }
    return ended.size();
  }

  /** How many connections the server holds open now. */
  int held() {
    int held = 0;
    for (SocketChannel channel : channels) {
      if (!ended.contains(channel) && !endedByServer(channel)) {
        held++;
      }
    }
    return held;
  }

  /** Whether the server reset or closed {@code channel} (non-blocking). */
  private static boolean endedByServer(SocketChannel channel) {
    int n;
    try {
      n = channel.read(ByteBuffer.allocate(1));
    } catch (IOException reset) {
      return true;
    }
    if (n > 0) {
      throw new AssertionError("the server sent bytes to a client that never spoke");
    }
    return n < 0;
  }

  @Override
  public void close() throws IOException {
    for (SocketChannel channel : channels) {
      channel.close();
    }
    selector.close();
  }
}
