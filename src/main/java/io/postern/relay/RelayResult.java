package io.postern.relay;

/**
 * How a relay ended: bytes each way and what ended it ({@code client}, {@code backend},
 * {@code idle}, {@code shutdown} when the shutdown grace ran out, or {@link Relay#REQUESTED}
 * when it was asked to end).
 */
public record RelayResult(long toClient, long toBackend, String endedBy) {}
