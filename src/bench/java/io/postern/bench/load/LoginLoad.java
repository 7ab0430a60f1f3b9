package io.postern.bench.load;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Logins through the proxy from {@code concurrency} client threads: each connects, does TLS
 * (implicit or STARTTLS), logs in (LOGIN or USER/PASS), logs out (LOGOUT or QUIT) and closes,
 * then starts the next, until {@code count} logins are done. The proxy's CPU over the whole
 * batch, divided by the logins, is the cost of one. A login that fails (an error answer, or no
 * answer within the client's timeout) is counted and reported; beyond 5% the phase fails.
 */
final class LoginLoad {

  /** One way to log in: protocol and where TLS starts. */
  enum Variant {
    IMAPS("IMAP, implicit TLS", MailSession.Protocol.IMAP, true),
    IMAP_STARTTLS("IMAP, STARTTLS", MailSession.Protocol.IMAP, false),
    POP3S("POP3, implicit TLS", MailSession.Protocol.POP3, true),
    POP3_STLS("POP3, STLS", MailSession.Protocol.POP3, false);

    final String label;
    final MailSession.Protocol protocol;
    final boolean implicitTls;

    Variant(String label, MailSession.Protocol protocol, boolean implicitTls) {
      this.label = label;
      this.protocol = protocol;
      this.implicitTls = implicitTls;
    }

    int port(ProxyUnderTest proxy) {
      return switch (this) {
        case IMAPS -> proxy.imapsPort();
        case IMAP_STARTTLS -> proxy.imapPort();
        case POP3S -> proxy.pop3sPort();
        case POP3_STLS -> proxy.pop3Port();
      };
    }
  }

  /** What one batch cost: the proxy's CPU per login, logins a second, latency of each. */
  record Result(Variant variant, boolean resumed, int logins, long resumedHandshakes,
      double cpuMillisPerLogin, double loginsPerSecond, double p50Millis, double p99Millis,
      int failed, String firstFailure) {}

  private final ProxyUnderTest proxy;
  private final int concurrency;

  LoginLoad(ProxyUnderTest proxy, int concurrency) {
    this.proxy = proxy;
    this.concurrency = concurrency;
  }

  Result run(Variant variant, ClientTls tls, int count) throws Exception {
    return run(List.of(variant), tls, count);
  }

  /**
   * {@code count} logins of each variant, the variants interleaved (login i uses variant
   * i mod n): one result for the whole mix, under the first variant's name.
   */
  Result run(List<Variant> variants, ClientTls tls, int count) throws Exception {
    int total = count * variants.size();
    AtomicInteger next = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    Latencies latencies = new Latencies();
    List<String> users = BenchBackend.users();
    ExecutorService threads = Executors.newFixedThreadPool(concurrency);
    long resumedBefore = tls.resumedHandshakes();
    long cpuBefore = proxy.meter().cpuNanos();
    long started = System.nanoTime();
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < concurrency; t++) {
        int worker = t;
        workers.add(threads.submit(() -> {
          for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
            Variant variant = variants.get(i % variants.size());
            long begin = System.nanoTime();
            try (MailSession session = MailSession.open(variant.protocol, variant.implicitTls,
                variant.port(proxy), tls, worker)) {
              session.login(users.get(i % users.size()), BenchBackend.PASSWORD);
              session.logout();
              latencies.add(System.nanoTime() - begin);
            } catch (IOException e) {
              // Counted and reported, not fatal: one stuck session must not void the run.
              failures.add(variant.label + ": " + e);
              if (failures.size() > Math.max(3, total / 20)) {
                throw new IOException("too many failed logins (" + failures.size() + "), first: "
                    + failures.peek(), e);
              }
            }
          }
          return null;
        }));
      }
      for (Future<?> worker : workers) {
        worker.get();
      }
    } finally {
      threads.shutdownNow();
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    double cpuMillis = (proxy.meter().cpuNanos() - cpuBefore) / 1e6;
    int done = latencies.count();
    return new Result(variants.get(0), tls.resumes(), done,
        tls.resumedHandshakes() - resumedBefore, cpuMillis / Math.max(1, done),
        done / seconds, latencies.percentileMicros(50) / 1000, latencies.percentileMicros(99)
        / 1000, failures.size(), failures.isEmpty() ? "" : failures.peek());
  }
}
