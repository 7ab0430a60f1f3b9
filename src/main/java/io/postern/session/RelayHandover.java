package io.postern.session;

import io.postern.backend.BackendSession;
import io.postern.config.Protocol;
import io.postern.metrics.ProtocolMeters;
import io.postern.net.SocketEnds;
import io.postern.relay.Relay;
import io.postern.relay.ResponseBoundaries;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hand-over of a logged-in session to the relay: the login reply first, then whatever the
 * client pipelined after its login command and the backend sent after its reply; when the relay
 * ends, the session's meters and its one log line.
 */
final class RelayHandover {

  private static final Logger LOG = LoggerFactory.getLogger(ClientSession.class);

  private RelayHandover() {}

  /**
   * {@code pipelined}: the client's bytes after its login command, exactly as received;
   * {@code boundaries}: the protocol's, or null. Returns the relay, or null if it failed to start.
   */
  static Relay start(ListenerContext context, Protocol protocol, SessionRecord record,
      ClientSocket socket, BackendSession backend, Buffer pipelined,
      ResponseBoundaries boundaries) {
    NetSocket client = socket.netSocket();
    client.pause();
    socket.write(backend.clientReply());
    ProtocolMeters meters = context.meters().protocol(protocol);
    try {
      Relay relay = Relay.start(context.vertx(), client, backend.socket(), pipelined,
          backend.leftover(), socket.hasInputEnded(), context.config().limits().idleTimeout(),
          () -> context.shutdown().graceLeft(context.config().limits().shutdownGrace()),
          new Relay.Counters(meters.bytesToClient()::increment,
              meters.bytesToBackend()::increment), boundaries);
      relay.result().onComplete(ar -> {
        meters.sessionEnded(record.age());
        record.relayed(ar.result().toClient(), ar.result().toBackend());
        String endedBy = ar.result().endedBy();
        // Ended from outside: the log line says why (shutdown, kicked, drained).
        record.end(Relay.REQUESTED.equals(endedBy) && record.requestedEnd() != null
            ? record.requestedEnd() : "ended_by_" + endedBy);
      });
      meters.sessionStarted();
      return relay;
    } catch (RuntimeException e) {
      LOG.error("session={} relay failed to start", record.id(), e);
      SocketEnds.abort(backend.socket());
      SocketEnds.abort(client);
      record.end("internal_error");
      return null;
    }
  }
}
