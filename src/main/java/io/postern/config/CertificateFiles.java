package io.postern.config;

import java.nio.file.Path;

/** A PEM certificate chain and its private key. */
public record CertificateFiles(Path cert, Path key) {}
