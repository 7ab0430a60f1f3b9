package io.postern.bench.load;

/**
 * One large message through the proxy in one stream (IMAP FETCH BODY[] over implicit TLS, POP3
 * RETR over implicit TLS), and the NOOP round trip of one logged-in IMAP session.
 */
final class StreamLoad {

  /** One large transfer: MiB/s as the client saw it, the proxy's CPU per GiB relayed. */
  record Transfer(MailSession.Protocol protocol, long bytes, double mibPerSecond,
      double cpuSecondsPerGib) {}

  /** NOOP round trips of one session, in microseconds. */
  record Noops(int count, double p50Micros, double p99Micros, double cpuMicrosPerNoop) {}

  private final ProxyUnderTest proxy;
  private final ClientTls tls;

  StreamLoad(ProxyUnderTest proxy, ClientTls tls) {
    this.proxy = proxy;
    this.tls = tls;
  }

  /** The best of {@code repeats} transfers (the first also warms the path up). */
  Transfer transfer(MailSession.Protocol protocol, int repeats) throws Exception {
    Transfer best = null;
    for (int i = 0; i < repeats; i++) {
      Transfer one = transferOnce(protocol);
      if (best == null || one.mibPerSecond() > best.mibPerSecond()) {
        best = one;
      }
    }
    return best;
  }

  private Transfer transferOnce(MailSession.Protocol protocol) throws Exception {
    int port = protocol == MailSession.Protocol.IMAP ? proxy.imapsPort() : proxy.pop3sPort();
    try (MailSession session = MailSession.open(protocol, true, port, tls)) {
      session.login(BenchBackend.BIG_USER, BenchBackend.PASSWORD);
      if (protocol == MailSession.Protocol.IMAP) {
        session.select();
      }
      long cpuBefore = proxy.meter().cpuNanos();
      long started = System.nanoTime();
      long bytes = session.fetchFirstMessage();
      long nanos = System.nanoTime() - started;
      long cpu = proxy.meter().cpuNanos() - cpuBefore;
      session.logout();
      double mib = bytes / (1024.0 * 1024.0);
      return new Transfer(protocol, bytes, mib / (nanos / 1e9),
          (cpu / 1e9) / (bytes / (1024.0 * 1024.0 * 1024.0)));
    }
  }

  /** {@code count} NOOPs one after another on one IMAP session (implicit TLS), after a warm-up. */
  Noops noops(int count) throws Exception {
    try (MailSession session = MailSession.open(MailSession.Protocol.IMAP, true,
        proxy.imapsPort(), tls)) {
      session.login(BenchBackend.users().get(0), BenchBackend.PASSWORD);
      session.select();
      for (int i = 0; i < Math.min(count, 1000); i++) {
        session.noop();
      }
      Latencies latencies = new Latencies();
      long cpuBefore = proxy.meter().cpuNanos();
      for (int i = 0; i < count; i++) {
        long begin = System.nanoTime();
        session.noop();
        latencies.add(System.nanoTime() - begin);
      }
      long cpu = proxy.meter().cpuNanos() - cpuBefore;
      session.logout();
      return new Noops(count, latencies.percentileMicros(50), latencies.percentileMicros(99),
          cpu / 1e3 / count);
    }
  }
}
