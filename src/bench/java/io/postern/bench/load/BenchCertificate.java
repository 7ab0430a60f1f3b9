package io.postern.bench.load;

import io.postern.it.RealParts;
import io.postern.testing.ExternalCommand;
import io.postern.testing.ProcessResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The proxy's certificate, self-signed by openssl for localhost and 127.0.0.1: RSA-2048 (what
 * the figures use) or ECDSA P-256 ({@code bench.key}).
 */
record BenchCertificate(Path cert, Path key, String type) {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  static BenchCertificate create(Path dir, String type) throws Exception {
    String openssl = RealParts.require("openssl").toString();
    Path cert = dir.resolve("bench-" + type + ".crt");
    Path key = dir.resolve("bench-" + type + ".key");
    List<String> newKey = type.equals("ecdsa")
        ? List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
        : List.of("-newkey", "rsa:2048");
    List<String> command = new java.util.ArrayList<>(List.of(openssl, "req", "-x509"));
    command.addAll(newKey);
    command.addAll(List.of("-nodes", "-days", "30", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", key.toString(), "-out", cert.toString()));
    ProcessResult result = ExternalCommand.run(command, TIMEOUT);
    if (result.exitCode() != 0) {
      throw new IllegalStateException("openssl req failed: " + result);
    }
    return new BenchCertificate(cert, key, type.equals("ecdsa") ? "ECDSA P-256" : "RSA-2048");
  }
}
