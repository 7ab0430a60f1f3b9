package io.postern.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Self-signed RSA-2048 certificates made with the openssl CLI, with a chosen CN and SANs. */
public final class OpensslCertificates {

  /** The PEM files of one certificate and its PKCS#8 key. */
  public record Pair(Path cert, Path key) {}

  private OpensslCertificates() {}

  /**
   * Writes {@code name.crt} and {@code name.key} in {@code dir}: subject {@code CN=cn}, DNS SANs
   * {@code dnsNames} (none: no SAN extension), valid for 30 days.
   */
  public static Pair selfSigned(Path dir, String name, String cn, String... dnsNames)
      throws Exception {
    List<String> sans = new ArrayList<>();
    for (String dns : dnsNames) {
      sans.add("DNS:" + dns);
    }
    return create(dir, name, cn, sans);
  }

  /**
   * As {@link #selfSigned}, for {@code CN=localhost} with the SANs {@code DNS:localhost} and
   * {@code IP:127.0.0.1}: a client verifies it whether it connects by name or by address.
   */
  public static Pair localhost(Path dir, String name) throws Exception {
    return create(dir, name, "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
  }

  /** As {@link #selfSigned}, with an ECDSA P-256 key instead of RSA-2048. */
  public static Pair selfSignedEc(Path dir, String name, String cn, String... dnsNames)
      throws Exception {
    List<String> sans = new ArrayList<>();
    for (String dns : dnsNames) {
      sans.add("DNS:" + dns);
    }
    return create(dir, name, cn, sans, List.of("-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256"));
  }

  private static Pair create(Path dir, String name, String cn, List<String> sans)
      throws Exception {
    return create(dir, name, cn, sans, List.of("-newkey", "rsa:2048"));
  }

  private static Pair create(Path dir, String name, String cn, List<String> sans,
      List<String> newKey) throws Exception {
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    List<String> args = new ArrayList<>(List.of("req", "-x509"));
    args.addAll(newKey);
    args.addAll(List.of("-nodes", "-sha256", "-days", "30", "-keyout", key.toString(),
        "-out", cert.toString(), "-subj", "/CN=" + cn));
    if (!sans.isEmpty()) {
      args.addAll(List.of("-addext", "subjectAltName=" + String.join(",", sans)));
    }
    OpensslTool.run(args, Duration.ofSeconds(60));
    return new Pair(cert, key);
  }
}
