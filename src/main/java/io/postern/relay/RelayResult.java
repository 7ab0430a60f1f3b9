package io.postern.relay;

/**
 * How a relay ended: bytes each way and what ended it ({@code client}, {@code backend},
 * {@code idle}, or {@code shutdown} when the shutdown grace ran out).
 */
public record RelayResult(long toClient, long toBackend, String endedBy) {}
