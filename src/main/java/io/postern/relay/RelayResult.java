package io.postern.relay;

/** How a relay ended: bytes each way and which side ended it ({@code client}, {@code backend}, {@code idle}). */
public record RelayResult(long toClient, long toBackend, String endedBy) {}
