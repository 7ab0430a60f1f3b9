package io.postern.bench.load;

import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Every phase against one proxy, in order: logins right after start (the first-run figure),
 * logins per variant with full handshakes, the same resuming TLS sessions, the large message
 * (FETCH, RETR), NOOP round trips, then IDLE sessions ramped through the levels asked for and up
 * to the most the proxy holds, its memory measured at each level, then held and ended.
 */
final class BenchRun {

  private static final int TRANSFER_REPEATS = 3;

  private final ProxyUnderTest proxy;
  private final BenchCertificate cert;
  private final BenchSettings settings;

  BenchRun(ProxyUnderTest proxy, BenchCertificate cert, BenchSettings settings) {
    this.proxy = proxy;
    this.cert = cert;
    this.settings = settings;
  }

  ProxyResults measure() throws Exception {
    ClientTls full = ClientTls.full(cert.cert());
    ClientTls resuming = ClientTls.resuming(cert.cert());
    LoginLoad logins = new LoginLoad(proxy, settings.concurrency());
    List<LoginLoad.Variant> variants = List.of(LoginLoad.Variant.values());

    log("first run: " + settings.warmupLogins() + " logins of each variant, just after start");
    LoginLoad.Result firstRun = logins.run(variants, full, settings.warmupLogins());
    log("  " + firstRun);
    if (settings.jitLogins() > 0) {
      log("JIT warm-up: " + settings.jitLogins() + " logins of each variant, not measured");
      logins.run(variants, full, settings.jitLogins());
    }
    List<LoginLoad.Result> fullResults = new ArrayList<>();
    for (LoginLoad.Variant variant : variants) {
      fullResults.add(logins.run(variant, full, settings.logins()));
      log("  full: " + fullResults.get(fullResults.size() - 1));
    }
    List<LoginLoad.Result> resumedResults = new ArrayList<>();
    for (LoginLoad.Variant variant : variants) {
      // First one login per client thread, so that each has a ticket for this listener.
      logins.run(variant, resuming, settings.concurrency() * 2);
      resumedResults.add(logins.run(variant, resuming, settings.logins()));
      log("  resumed: " + resumedResults.get(resumedResults.size() - 1));
    }

    StreamLoad stream = new StreamLoad(proxy, full);
    if (settings.streamWarmups() > 0) {
      log("JIT warm-up: " + settings.streamWarmups() + " transfers of each protocol, not measured");
      stream.transfer(MailSession.Protocol.IMAP, settings.streamWarmups());
      stream.transfer(MailSession.Protocol.POP3, settings.streamWarmups());
    }
    StreamLoad.Transfer fetch = stream.transfer(MailSession.Protocol.IMAP, TRANSFER_REPEATS);
    log("  " + fetch);
    StreamLoad.Transfer retr = stream.transfer(MailSession.Protocol.POP3, TRANSFER_REPEATS);
    log("  " + retr);
    StreamLoad.Noops noops = stream.noops(settings.noops());
    log("  " + noops);

    IdleSessions idle = new IdleSessions(proxy, full, settings.setupConcurrency());
    try {
      return idlePhase(idle, firstRun, fullResults, resumedResults, fetch, retr, noops);
    } finally {
      idle.abandon();
    }
  }

  private ProxyResults idlePhase(IdleSessions idle, LoginLoad.Result firstRun,
      List<LoginLoad.Result> fullResults, List<LoginLoad.Result> resumedResults,
      StreamLoad.Transfer fetch, StreamLoad.Transfer retr, StreamLoad.Noops noops)
      throws Exception {
    int byDescriptors = proxy.maxSessionsByDescriptors();
    List<ProxyResults.MemoryPoint> memory = new ArrayList<>();
    memory.add(memoryPoint(0));
    long setupNanos = 0;
    String refusal = "";
    for (int level : settings.fixedSessionLevels()) {
      if (level > byDescriptors) {
        log("IDLE: " + level + " sessions do not fit the open-file limit (room for "
            + byDescriptors + "); the max level covers it");
        continue;
      }
      log("IDLE: opening up to " + level + " sessions");
      IdleSessions.Ramp ramp = idle.openUpTo(level);
      setupNanos += ramp.cpuNanos();
      memory.add(memoryPoint(idle.held()));
      if (ramp.refused()) {
        refusal = ramp.refusal();
        log("IDLE: refused at " + idle.held() + ": " + refusal);
        break;
      }
    }
    if (settings.wantsMax() && refusal.isEmpty()) {
      // A little past what the descriptors allow: the ramp stops at the first refusal.
      int target = byDescriptors + Math.max(50, byDescriptors / 100);
      log("IDLE: opening up to " + target + " sessions, until refused (room for "
          + byDescriptors + " by the open-file limit)");
      IdleSessions.Ramp ramp = idle.openUpTo(target);
      setupNanos += ramp.cpuNanos();
      refusal = ramp.refusal();
      log("IDLE: holding " + idle.held() + (ramp.refused() ? ", refused: " + refusal : ""));
      memory.add(memoryPoint(idle.held()));
    }
    int held = idle.held();
    long holdStart = proxy.meter().cpuNanos();
    // The hold itself is what is measured: every session open, nothing sent for this long.
    TimeUnit.SECONDS.sleep(settings.idleHoldSeconds());
    long holdNanos = proxy.meter().cpuNanos() - holdStart;
    log("IDLE: DONE and LOGOUT on " + held + " sessions");
    long endNanos = idle.endAll();
    ProxyResults.IdleCost cost = new ProxyResults.IdleCost(held, setupNanos, holdNanos,
        settings.idleHoldSeconds(), endNanos);
    log("  " + cost + " = " + cost.millisPerSession() + " ms per session");
    return new ProxyResults(proxy.name(), cert.type(), firstRun, fullResults, resumedResults,
        fetch, retr, noops, memory,
        cost, new ProxyResults.MaxSessions(held, byDescriptors, refusal));
  }

  private ProxyResults.MemoryPoint memoryPoint(int sessions) throws Exception {
    long heap = proxy.heapAfterGcKib().orElse(-1);
    ProcessMeter.Memory memory = proxy.meter().memory();
    ProxyResults.MemoryPoint point = new ProxyResults.MemoryPoint(sessions, memory.rssKib(),
        memory.pssKib(), heap, proxy.meter().openFiles());
    log("  " + point);
    return point;
  }

  private void log(String line) {
    System.out.println("[bench " + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + " "
        + proxy.name() + "] " + line);
  }
}
