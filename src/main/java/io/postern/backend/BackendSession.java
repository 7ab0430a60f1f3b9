package io.postern.backend;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * A backend connection after a successful login, paused and ready to relay: the line to send the
 * client as its login reply, and any bytes the backend sent after its own login reply.
 */
public record BackendSession(NetSocket socket, BackendTarget target, Buffer clientReply,
    Buffer leftover, String tlsProtocol) {}
