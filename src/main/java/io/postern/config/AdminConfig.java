package io.postern.config;

/** The admin HTTP endpoint (metrics and health). */
public record AdminConfig(String address, int port) {}
