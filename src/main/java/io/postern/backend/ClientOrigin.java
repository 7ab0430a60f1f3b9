package io.postern.backend;

/**
 * Where a login came from, for backends that are told (ID {@code x-originating-ip}, XCLIENT,
 * PROXY v2): the client's address and port, the address and port it connected to, and the
 * session id that Postern's log line carries. Addresses are in nginx's text form.
 */
public record ClientOrigin(String clientIp, int clientPort, String localIp, int localPort,
    String sessionId) {}
