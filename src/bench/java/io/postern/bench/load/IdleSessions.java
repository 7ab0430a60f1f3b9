package io.postern.bench.load;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * IMAP sessions held in IDLE through the proxy (implicit TLS, full handshakes, LOGIN, SELECT,
 * IDLE), as phones hold them. A held session needs no client thread: its socket waits in the
 * kernel until {@link #endAll} sends DONE and LOGOUT. Sessions are set up {@code concurrency} at
 * a time; {@link #openUpTo} stops at the first one the proxy refuses (its open-file limit), which
 * is how the most it can hold is found.
 */
final class IdleSessions {

  private record Held(MailSession session, String idleTag) {}

  /** How far {@link #openUpTo} got, and what it cost the proxy. */
  record Ramp(int held, boolean refused, String refusal, long cpuNanos) {}

  private final ProxyUnderTest proxy;
  private final ClientTls tls;
  private final int concurrency;
  private final ConcurrentLinkedQueue<Held> held = new ConcurrentLinkedQueue<>();
  private final AtomicInteger opened = new AtomicInteger();

  IdleSessions(ProxyUnderTest proxy, ClientTls tls, int concurrency) {
    this.proxy = proxy;
    this.tls = tls;
    this.concurrency = concurrency;
  }

  int held() {
    return held.size();
  }

  /** Opens sessions until {@code target} are held, or the proxy refuses one. */
  Ramp openUpTo(int target) throws Exception {
    AtomicBoolean refused = new AtomicBoolean();
    AtomicInteger claimed = new AtomicInteger(held.size());
    ConcurrentLinkedQueue<String> refusals = new ConcurrentLinkedQueue<>();
    List<String> users = BenchBackend.users();
    long cpuBefore = proxy.meter().cpuNanos();
    ExecutorService threads = Executors.newFixedThreadPool(concurrency);
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < concurrency; t++) {
        workers.add(threads.submit(() -> {
          while (!refused.get() && claimed.getAndIncrement() < target) {
            int n = opened.getAndIncrement();
            MailSession session = null;
            try {
              session = MailSession.open(MailSession.Protocol.IMAP, true, proxy.imapsPort(), tls);
              session.login(users.get(n % users.size()), BenchBackend.PASSWORD);
              session.select();
              held.add(new Held(session, session.idle()));
            } catch (IOException e) {
              if (session != null) {
                session.close();
              }
              refusals.add(e.toString());
              refused.set(true);
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
    return new Ramp(held.size(), refused.get(), refusals.isEmpty() ? "" : refusals.peek(),
        proxy.meter().cpuNanos() - cpuBefore);
  }

  /** DONE and LOGOUT on every held session; returns the proxy's CPU for it, in nanoseconds. */
  long endAll() throws Exception {
    long cpuBefore = proxy.meter().cpuNanos();
    ExecutorService threads = Executors.newFixedThreadPool(concurrency);
    AtomicInteger failures = new AtomicInteger();
    try {
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < concurrency; t++) {
        workers.add(threads.submit(() -> {
          for (Held one = held.poll(); one != null; one = held.poll()) {
            try {
              one.session().done(one.idleTag());
              one.session().logout();
            } catch (IOException e) {
              failures.incrementAndGet();
              one.session().close();
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
    if (failures.get() > 0) {
      throw new IOException(failures.get() + " IDLE sessions failed at DONE/LOGOUT");
    }
    return proxy.meter().cpuNanos() - cpuBefore;
  }

  /** Closes whatever is still held, without goodbyes (after a failure). */
  void abandon() {
    for (Held one = held.poll(); one != null; one = held.poll()) {
      one.session().close();
    }
  }
}
