package io.postern.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code openssl s_client} against a loopback port, optionally through {@code -starttls imap|pop3},
 * always with {@code -brief} (the handshake summary goes to stderr) and {@code -crlf}.
 */
public final class SClient {

  /** How long a handshake (including the STARTTLS dialogue) may take before it counts as hung. */
  public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(15);

  /** Where to connect: a port and, for the STARTTLS/STLS path, s_client's protocol name. */
  public record Target(String name, int port, String starttls) {

    public List<String> args() {
      List<String> args = new ArrayList<>(List.of("s_client", "-connect", "127.0.0.1:" + port,
          "-brief", "-crlf"));
      if (starttls != null) {
        args.addAll(List.of("-starttls", starttls));
      }
      return args;
    }

    @Override
    public String toString() {
      return name + (starttls == null ? " (implicit TLS)" : " (-starttls " + starttls + ")");
    }
  }

  /** What one s_client run showed; {@code established} is s_client's "CONNECTION ESTABLISHED". */
  public record Handshake(boolean established, int exitCode, String stdout, String stderr,
      String command) {

    /** "Protocol version: TLSv1.3" as "TLSv1.3". */
    public Optional<String> protocol() {
      return field("Protocol version");
    }

    /** The OpenSSL name of the suite, e.g. "ECDHE-RSA-AES128-GCM-SHA256". */
    public Optional<String> cipher() {
      return field("Ciphersuite");
    }

    /** The leaf's subject as s_client prints it, e.g. "CN = localhost". */
    public Optional<String> peerCertificate() {
      return field("Peer certificate");
    }

    private Optional<String> field(String name) {
      Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + ": (.*?)\\r?$").matcher(stderr);
      return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    @Override
    public String toString() {
      return command + "\n  exit " + exitCode + ", established " + established + "\n--- stdout:\n"
          + stdout + "\n--- stderr:\n" + stderr;
    }
  }

  private SClient() {}

  /** Starts s_client with the target's arguments plus {@code extra}; the caller drives it. */
  public static OpensslTool start(Target target, List<String> extra) throws Exception {
    List<String> args = new ArrayList<>(target.args());
    args.addAll(extra);
    return OpensslTool.start(args);
  }

  /**
   * One handshake: waits for s_client's verdict (established, or it exited), then closes its stdin
   * so it says goodbye and exits. s_client's single-letter commands are off ({@code -nocommands}).
   */
  public static Handshake handshake(Target target, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("-nocommands"));
    args.addAll(List.of(extra));
    try (OpensslTool client = start(target, args)) {
      client.awaitStderr("CONNECTION ESTABLISHED", HANDSHAKE_TIMEOUT);
      int exit = client.finish(HANDSHAKE_TIMEOUT);
      String err = client.stderr();
      return new Handshake(err.contains("CONNECTION ESTABLISHED"), exit, client.stdout(), err,
          String.join(" ", client.command()));
    }
  }

  /** How long a renegotiation may take to finish or fail. */
  static final Duration RENEGOTIATION_WAIT = Duration.ofSeconds(5);

  /** What a client-initiated renegotiation ("R" on s_client's stdin, TLS 1.2) came to. */
  public record Renegotiation(boolean attempted, boolean completed, boolean aliveAfterwards,
      String client) {}

  /**
   * Handshakes with TLS 1.2, types {@code R} (s_client renegotiates at once), waits for the second
   * handshake's Finished or for the connection to die, then sends {@code probe} (if any).
   * {@code -state} puts the handshake states on stderr, in order with "RENEGOTIATING".
   */
  public static Renegotiation renegotiate(Target target, String probe) throws Exception {
    try (OpensslTool client = start(target, List.of("-tls1_2", "-state"))) {
      if (!client.awaitStderr("CONNECTION ESTABLISHED", HANDSHAKE_TIMEOUT)) {
        throw new AssertionError("no TLS connection: " + client);
      }
      client.send("R");
      client.awaitStderr("RENEGOTIATING", RENEGOTIATION_WAIT);
      client.await(t -> afterRenegotiating(t).contains("read finished")
          || afterRenegotiating(t).contains("error"), RENEGOTIATION_WAIT);
      boolean alive = client.alive();
      if (probe != null && alive) {
        client.send(probe);
        Thread.sleep(300);
      }
      client.finish(RENEGOTIATION_WAIT);
      String after = afterRenegotiating(client);
      return new Renegotiation(client.stderr().contains("RENEGOTIATING"),
          after.contains("SSLv3/TLS read finished"), alive, client.toString());
    }
  }

  private static String afterRenegotiating(OpensslTool client) {
    String err = client.stderr();
    int at = err.indexOf("RENEGOTIATING");
    return at < 0 ? "" : err.substring(at);
  }

}
