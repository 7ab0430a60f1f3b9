package io.postern.demo;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A line-oriented connection: frames input for a session and writes its replies with back-pressure.
 *
 * <p>After each record the write queue is checked; when it is full, input is held and the socket
 * paused until it drains, so a client pipelining many RETR or FETCH commands cannot make the server
 * queue unbounded output.
 */
final class LineChannel implements LineFramer.Sink {

  /** The protocol side of a connection. */
  interface Receiver {
    void onLine(byte[] line);

    void onLiteral(byte[] data);

    void onLineTooLong();
  }

  private static final Logger LOG = LoggerFactory.getLogger(LineChannel.class);

  private final NetSocket socket;
  private final LineFramer framer;
  private final Receiver receiver;
  private boolean closing;

  LineChannel(NetSocket socket, int maxLine, Receiver receiver) {
    this.socket = socket;
    this.receiver = receiver;
    this.framer = new LineFramer(maxLine, this);
  }

  void start(String protocol) {
    LOG.debug("{} connection from {}", protocol, socket.remoteAddress());
    socket.exceptionHandler(e -> LOG.debug("{} connection error: {}", protocol, e.toString()));
    socket.closeHandler(
        v -> {
          closing = true;
          framer.stop();
          LOG.debug("{} connection from {} closed", protocol, socket.remoteAddress());
        });
    socket.handler(framer::feed);
  }

  void expectLiteral(int size) {
    framer.expectLiteral(size);
  }

  void send(String text) {
    send(Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)));
  }

  void send(Buffer data) {
    if (closing) {
      return;
    }
    socket.write(data).onFailure(e -> LOG.debug("Write failed: {}", e.toString()));
  }

  /** Sends a last reply, then closes once it is written; later input is ignored. */
  Future<Void> sendAndClose(String text) {
    if (closing) {
      return Future.succeededFuture();
    }
    closing = true;
    framer.stop();
    return socket.end(Buffer.buffer(text.getBytes(StandardCharsets.UTF_8)));
  }

  @Override
  public void line(byte[] line) {
    receiver.onLine(line);
    applyBackPressure();
  }

  @Override
  public void literal(byte[] data) {
    receiver.onLiteral(data);
    applyBackPressure();
  }

  @Override
  public void lineTooLong() {
    receiver.onLineTooLong();
  }

  private void applyBackPressure() {
    if (closing || framer.held() || !socket.writeQueueFull()) {
      return;
    }
    LOG.debug("Write queue full; pausing input from {}", socket.remoteAddress());
    framer.hold();
    socket.pause();
    socket.drainHandler(
        v -> {
          socket.drainHandler(null);
          socket.resume();
          framer.release();
        });
  }
}
