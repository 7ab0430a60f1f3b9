package io.postern.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A self-signed certificate made with the openssl CLI, valid for localhost and 127.0.0.1. */
record OpensslCertificate(Path cert, Path key) {

  static OpensslCertificate create(Path dir, String name) throws Exception {
    String openssl = RealParts.require("openssl").toString();
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    Clients.ProcessResult r = ExternalCommand.run(List.of(openssl, "req", "-x509", "-newkey",
        "rsa:2048", "-nodes", "-sha256", "-days", "30", "-keyout", key.toString(), "-out",
        cert.toString(), "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"), Duration.ofSeconds(60));
    if (r.exitCode() != 0) {
      throw new IllegalStateException("openssl failed: " + r);
    }
    return new OpensslCertificate(cert, key);
  }
}
