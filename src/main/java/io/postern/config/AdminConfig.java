package io.postern.config;

import java.nio.file.Path;

/**
 * The admin HTTP endpoint (metrics, health and the admin API). {@code tokenFile} holds the bearer
 * token the API's mutating calls need; null refuses every mutating call.
 */
public record AdminConfig(String address, int port, Path tokenFile) {}
