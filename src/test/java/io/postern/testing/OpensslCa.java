package io.postern.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate authority made with the openssl CLI, issuing client certificates: what an ISP's
 * PKI hands its business customers. ECDSA P-256 keys (quick to make), valid for 30 days.
 */
public final class OpensslCa {

  private static final Duration OPENSSL_TIMEOUT = Duration.ofSeconds(60);
  private static final String P256 = "ec_paramgen_curve:P-256";
  /** openssl's UTCTime form, YYMMDDHHMMSSZ. */
  private static final DateTimeFormatter OPENSSL_TIME =
      DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

  private final Path dir;
  private final Path cert;
  private final Path key;

  private OpensslCa(Path dir, Path cert, Path key) {
    this.dir = dir;
    this.cert = cert;
    this.key = key;
  }

  /** A new CA, {@code name.crt} and {@code name.key} in {@code dir}, subject {@code /CN=cn}. */
  public static OpensslCa create(Path dir, String name, String cn) throws Exception {
    Files.createDirectories(dir);
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    OpensslTool.run(List.of("req", "-x509", "-newkey", "ec", "-pkeyopt", P256, "-nodes", "-sha256",
        "-days", "30", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=" + cn,
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"), OPENSSL_TIMEOUT);
    return new OpensslCa(dir, cert, key);
  }

  /** The CA's certificate (PEM): the {@code client-ca} file. */
  public Path cert() {
    return cert;
  }

  /**
   * Issues {@code name.crt}/{@code name.key} for {@code subject} (openssl's {@code -subj} form,
   * e.g. {@code /CN=alice/emailAddress=alice@example.org}) with serial {@code serialHex} and the
   * subject alternative names {@code sans} (e.g. {@code email:a@example.org}; none: no
   * extension).
   */
  public OpensslCertificates.Pair issue(String name, String subject, String serialHex,
      String... sans) throws Exception {
    return issueWith(name, subject, serialHex, sans.length == 0 ? null
        : "extendedKeyUsage=clientAuth\nsubjectAltName=" + String.join(",", sans) + "\n");
  }

  /** The same with {@code extensions} (an openssl extfile's lines; null: none) as they are. */
  public OpensslCertificates.Pair issueWith(String name, String subject, String serialHex,
      String extensions) throws Exception {
    Path csr = dir.resolve(name + ".csr");
    Path out = dir.resolve(name + ".crt");
    Path outKey = dir.resolve(name + ".key");
    OpensslTool.run(List.of("req", "-new", "-newkey", "ec", "-pkeyopt", P256, "-nodes", "-sha256",
        "-utf8", "-keyout", outKey.toString(), "-out", csr.toString(), "-subj", subject),
        OPENSSL_TIMEOUT);
    List<String> args = new ArrayList<>(List.of("x509", "-req", "-in", csr.toString(),
        "-CA", cert.toString(), "-CAkey", key.toString(), "-set_serial", "0x" + serialHex,
        "-days", "30", "-sha256", "-out", out.toString()));
    if (extensions != null) {
      Path ext = dir.resolve(name + ".ext");
      Files.writeString(ext, extensions);
      args.addAll(List.of("-extfile", ext.toString()));
    }
    OpensslTool.run(args, OPENSSL_TIMEOUT);
    return new OpensslCertificates.Pair(out, outKey);
  }

  /**
   * {@code name.pem}: this CA's CRL revoking {@code serialsHex}, issued {@code issued} and due
   * for renewal at {@code nextUpdate} (one in the past makes a stale CRL), made by
   * {@code openssl ca -gencrl} from an index of just those serials.
   */
  public Path crl(String name, Instant issued, Instant nextUpdate, String... serialsHex)
      throws Exception {
    String from = OPENSSL_TIME.format(issued);
    String until = OPENSSL_TIME.format(nextUpdate);
    Path index = dir.resolve(name + ".index");
    StringBuilder revoked = new StringBuilder();
    for (String serial : serialsHex) {
      revoked.append("R\t301231235959Z\t").append(from).append('\t').append(serial)
          .append("\tunknown\t/CN=revoked\n");
    }
    Files.writeString(index, revoked.toString());
    Path config = dir.resolve(name + ".cnf");
    Files.writeString(config, "[ca]\ndefault_ca = crl\n[crl]\ndatabase = " + index
        + "\ndefault_md = sha256\n");
    Path out = dir.resolve(name + ".pem");
    OpensslTool.run(List.of("ca", "-gencrl", "-config", config.toString(), "-keyfile",
        key.toString(), "-cert", cert.toString(), "-crl_lastupdate", from, "-crl_nextupdate",
        until, "-out", out.toString()), OPENSSL_TIMEOUT);
    return out;
  }

  /** What {@code openssl x509} prints for {@code cert}: {@code -subject -nameopt RFC2253} etc. */
  public static String x509(Path cert, String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("x509", "-noout", "-in", cert.toString()));
    args.addAll(List.of(options));
    return OpensslTool.run(args, OPENSSL_TIMEOUT).trim();
  }
}
