package io.postern.session;

import java.time.Instant;

/**
 * One live session as the admin API lists it: a snapshot, taken on the session's own event loop.
 * {@code user}, {@code backend} and {@code server} are null before they are known; {@code tls}
 * is the TLS version, or null for plaintext; byte counts are what the relay has passed so far.
 */
public record SessionView(
    String id,
    String user,
    String clientIp,
    int clientPort,
    String listener,
    String protocol,
    String backend,
    String server,
    String tls,
    Instant since,
    long bytesToClient,
    long bytesToBackend,
    boolean loggedIn) {}
