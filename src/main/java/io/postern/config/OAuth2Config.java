package io.postern.config;

/** {@code auth.oauth2}: how bearer tokens are verified (auth.source: oauth2). */
public record OAuth2Config(String jwksUrl, String introspectionUrl) {}
