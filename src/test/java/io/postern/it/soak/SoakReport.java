package io.postern.it.soak;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The soak's verdict: what the clients saw, what Postern's metrics say, how memory and file
 * descriptors compare with the baseline, and every invariant with what it expected and measured.
 */
final class SoakReport {

  /** One invariant; {@code example} shows one case when it broke. */
  record Check(String name, String expected, String measured, boolean pass, String example) {}

  /** Postern's process at one moment; {@code heapAfterGc} in bytes, -1 if not measured. */
  record Resources(ProcessProbe.Sample sample, long heapAfterGc) {}

  /** What the run leaves for the report beyond the tally. */
  record Run(SoakSettings settings, Duration loadTime, List<Outages.Window> outages,
      List<String> outageProblems, MetricsScrape metrics, Resources baseline, Resources peak,
      Resources end, List<String> leftOpen, PosternLog log, boolean posternAlive) {}

  // What may stay above the baseline once the load is over (see the README's Soak section).
  static final int FD_SLACK = 10;
  static final long HEAP_SLACK = 32L << 20;
  static final long RSS_SLACK_KIB = 160L << 10;
  static final int THREAD_SLACK = 24;

  private final Tally tally;
  private final Run run;
  private final List<Check> checks = new ArrayList<>();

  SoakReport(Tally tally, Run run) {
    this.tally = tally;
    this.run = run;
    check();
  }

  List<Check> failures() {
    return checks.stream().filter(c -> !c.pass()).toList();
  }

  private void check() {
    for (Attempt.Violation v : Attempt.Violation.values()) {
      List<String> found = tally.violations(v);
      zero(switch (v) {
        case ALTERED -> "no byte altered (sha256 of every fetch)";
        case MIXED -> "no session mixed (counts, sizes, hashes)";
        case WRONG_PASSWORD_ACCEPTED -> "no guess let in";
        case RIGHT_PASSWORD_REFUSED -> "no right password refused outside outages";
      }, found.size(), found.isEmpty() ? "" : found.get(0));
    }
    List<Attempt> broken = tally.attempts().stream()
        .filter(a -> a.outcome() == Attempt.Outcome.BROKEN && !tally.disrupted(a)).toList();
    zero("no logged-in session broken outside outages", broken.size(),
        broken.isEmpty() ? "" : broken.get(0).client() + ": " + broken.get(0).detail());
    long finals = tally.count(a -> a.role() == Attempt.Role.FINAL);
    long finalOk = tally.count(a -> a.role() == Attempt.Role.FINAL
        && a.outcome() == Attempt.Outcome.OK);
    add("every reader served after the load", finals + " of " + finals, finalOk + " of " + finals,
        finals > 0 && finalOk == finals);
    long readers = tally.count(a -> a.role() == Attempt.Role.READER);
    long readersOk = tally.count(a -> a.role() == Attempt.Role.READER
        && a.outcome() == Attempt.Outcome.OK);
    add("most reader runs succeed (the load went through)", ">= 50% of " + readers,
        percent(readersOk, readers), readers > 0 && readersOk * 2 >= readers);
    zero("outage parts came back", run.outageProblems().size(),
        run.outageProblems().isEmpty() ? "" : run.outageProblems().get(0));
    add("Postern still running", "yes", run.posternAlive() ? "yes" : "no", run.posternAlive());
    checkMetrics();
    checkResources();
    zero("no Netty buffer leak reported (LEAK:)", run.log().leaks(), "");
    zero("no OutOfMemoryError", run.log().outOfMemory(), "");
    zero("no 'Too many open files'", run.log().tooManyFiles(), "");
    zero("no password in Postern's output", run.log().passwords(), "");
  }

  private void checkMetrics() {
    MetricsScrape m = run.metrics();
    Attempt.Logins seen = tally.logins();
    double success = m.sum("postern_logins_total", "result", "success");
    double refused = m.sum("postern_logins_total", s -> !"success".equals(s.labels().get("result")));
    within("postern_logins_total{result=success} = logins clients saw OK", success, seen.ok(),
        seen.unanswered());
    within("postern_logins_total{result!=success} = logins clients saw refused", refused,
        seen.refused(), seen.unanswered());
    double ended = m.sum("postern_session_duration_seconds_count");
    add("sessions ended (duration count) between client OKs and login successes",
        seen.ok() + " .. " + (long) success, Long.toString((long) ended),
        ended >= seen.ok() && ended <= success);
    add("postern_sessions_active back to 0", "0", fmt(m.sum("postern_sessions_active")),
        m.sum("postern_sessions_active") == 0);
    add("postern_connections_active back to 0", "0", fmt(m.sum("postern_connections_active")),
        m.sum("postern_connections_active") == 0);
    double connections = m.sum("postern_connections_total");
    long answered = seen.ok() + seen.refused();
    add("postern_connections_total between logins answered and connections opened",
        answered + " .. " + tally.connectionsOpened(), fmt(connections),
        connections >= answered && connections <= tally.connectionsOpened());
    double handshakes = m.sum("postern_tls_handshakes_total", "result", "success");
    add("TLS handshakes >= logins answered (no login without TLS)", ">= " + answered,
        fmt(handshakes), handshakes >= answered);
    double toClient = m.sum("postern_relay_bytes_total", "direction", "to_client");
    add("relayed to clients >= bytes clients verified", ">= " + tally.fetchedBytes(),
        fmt(toClient), toClient >= tally.fetchedBytes());
  }

  private void checkResources() {
    Resources base = run.baseline();
    Resources end = run.end();
    checks.add(new Check("open fds back near the baseline", "<= " + (base.sample().fds() + FD_SLACK),
        Integer.toString(end.sample().fds()), end.sample().fds() <= base.sample().fds() + FD_SLACK,
        "open now: " + run.leftOpen()));
    add("heap after GC back near the baseline", "<= " + mib(base.heapAfterGc() + HEAP_SLACK),
        mib(end.heapAfterGc()), end.heapAfterGc() <= base.heapAfterGc() + HEAP_SLACK);
    add("RSS after GC back near the baseline", "<= " + mib((base.sample().rssKib() + RSS_SLACK_KIB) << 10),
        mib(end.sample().rssKib() << 10), end.sample().rssKib() <= base.sample().rssKib() + RSS_SLACK_KIB);
    add("threads back near the baseline", "<= " + (base.sample().threads() + THREAD_SLACK),
        Integer.toString(end.sample().threads()),
        end.sample().threads() <= base.sample().threads() + THREAD_SLACK);
  }

  String text() {
    StringBuilder out = new StringBuilder();
    SoakSettings s = run.settings();
    out.append(String.format(Locale.ROOT, "Postern soak: %s of load (%s until the last client"
            + " was done), seed %d, %d readers, %d idlers, %d guessers, %d flooders, Postern JVM %s%n",
        human(s.duration()), human(run.loadTime()), s.seed(), s.clients(), s.idlers(),
        s.guessers(), s.flooders(), s.jvmOptions()));
    for (Outages.Part part : Outages.Part.values()) {
      List<Outages.Window> w = run.outages().stream().filter(x -> x.part() == part).toList();
      out.append(String.format(Locale.ROOT, "Outages of the %s: %d, %s down in all%n",
          part == Outages.Part.BACKEND ? "backend (Dovecot)" : "auth_http service", w.size(),
          human(w.stream().map(Outages.Window::length).reduce(Duration.ZERO, Duration::plus))));
    }
    out.append('\n').append(clientTable()).append('\n').append(floodTable()).append('\n')
        .append(metricsTable()).append('\n').append(resourceTable()).append('\n')
        .append(checkTable());
    List<Check> failed = failures();
    out.append(failed.isEmpty() ? "\nRESULT: PASS, every invariant held\n"
        : "\nRESULT: FAIL, " + failed.size() + " invariant(s) broken\n");
    return out.toString();
  }

  /**
   * Every client run, one per line (seconds from the first run, role, client, outcome, login
   * answers ok/refused/unanswered, whether an outage overlapped it, what the client said): for
   * looking into a failure.
   */
  String attemptLog() {
    List<Attempt> all = tally.attempts();
    long origin = all.stream().mapToLong(Attempt::startNanos).min().orElse(0);
    StringBuilder out = new StringBuilder("start_s\tend_s\trole\tclient\toutcome\tlogins\toutage\tdetail\n");
    for (Attempt a : all) {
      out.append(String.format(Locale.ROOT, "%.1f\t%.1f\t%s\t%s\t%s\t%d/%d/%d\t%s\t%s%n",
          (a.startNanos() - origin) / 1e9, (a.endNanos() - origin) / 1e9, a.role(), a.client(),
          a.outcome(), a.logins().ok(), a.logins().refused(), a.logins().unanswered(),
          tally.disrupted(a) ? "yes" : "no", a.detail()));
    }
    return out.toString();
  }

  private String clientTable() {
    Table t = new Table("client runs", "runs", "ok", "auth-fail", "temp-fail", "no-login",
        "broken", "in-outage", "verified", "MiB");
    Map<String, List<Attempt>> groups = new LinkedHashMap<>();
    tally.attempts().stream()
        .sorted(Comparator.comparing(Attempt::role).thenComparing(Attempt::client))
        .forEach(a -> groups.computeIfAbsent(a.role().name().toLowerCase(Locale.ROOT) + " "
            + a.client(), k -> new ArrayList<>()).add(a));
    groups.forEach((name, list) -> t.row(name, list.size(),
        count(list, a -> a.outcome() == Attempt.Outcome.OK),
        count(list, a -> a.outcome() == Attempt.Outcome.AUTH_FAILED),
        count(list, a -> a.outcome() == Attempt.Outcome.TEMP_FAILED),
        count(list, a -> a.outcome() == Attempt.Outcome.NOT_LOGGED_IN),
        count(list, a -> a.outcome() == Attempt.Outcome.BROKEN),
        count(list, a -> a.outcome() != Attempt.Outcome.OK && tally.disrupted(a)),
        list.stream().mapToLong(Attempt::fetched).sum(),
        String.format(Locale.ROOT, "%.1f", list.stream().mapToLong(Attempt::fetchedBytes).sum() / 1048576.0)));
    Attempt.Logins l = tally.logins();
    return t + String.format(Locale.ROOT, "login commands: %d answered OK, %d refused, %d unanswered%n",
        l.ok(), l.refused(), l.unanswered());
  }

  private String floodTable() {
    Table t = new Table("flood connections", "bursts", "connections", "not-connected",
        "closed-by-postern", "held-by-us");
    tally.floods().forEach((kind, f) -> t.row(kind.name().toLowerCase(Locale.ROOT), f.bursts(),
        f.connections(), f.notConnected(), f.closedByPostern(), f.held()));
    return t.toString();
  }

  private String metricsTable() {
    MetricsScrape m = run.metrics();
    Table t = new Table("Postern's metrics at the end", "value");
    m.by("postern_logins_total", "result").forEach((k, v) -> t.row("logins " + k, fmt(v)));
    t.row("connections", fmt(m.sum("postern_connections_total")));
    m.by("postern_connections_rejected_total", "reason")
        .forEach((k, v) -> t.row("connections rejected " + k, fmt(v)));
    m.by("postern_tls_handshakes_total", "result")
        .forEach((k, v) -> t.row("TLS handshakes " + k, fmt(v)));
    t.row("sessions ended", fmt(m.sum("postern_session_duration_seconds_count")));
    t.row("relayed to clients (MiB)", String.format(Locale.ROOT, "%.1f",
        m.sum("postern_relay_bytes_total", "direction", "to_client") / 1048576.0));
    t.row("auth errors", fmt(m.sum("postern_auth_errors_total")));
    m.by("postern_backend_errors_total", "reason")
        .forEach((k, v) -> t.row("backend errors " + k, fmt(v)));
    return t.toString();
  }

  private String resourceTable() {
    Table t = new Table("Postern's process", "baseline", "peak", "end");
    t.row("RSS (MiB)", mib(run.baseline().sample().rssKib() << 10),
        mib(run.peak().sample().rssKib() << 10), mib(run.end().sample().rssKib() << 10));
    t.row("heap used (MiB; after GC but the peak)", mib(run.baseline().heapAfterGc()),
        mib(run.peak().heapAfterGc()), mib(run.end().heapAfterGc()));
    t.row("open fds", run.baseline().sample().fds(), run.peak().sample().fds(), run.end().sample().fds());
    t.row("threads", run.baseline().sample().threads(), run.peak().sample().threads(),
        run.end().sample().threads());
    t.row("log lines WARN / ERROR", "", "", run.log().warnings() + " / " + run.log().errors());
    return t.toString();
  }

  private String checkTable() {
    Table t = new Table("invariant", "expected", "measured", "");
    checks.forEach(c -> t.row(c.name(), c.expected(), c.measured(), c.pass() ? "PASS" : "FAIL"));
    StringBuilder examples = new StringBuilder();
    failures().stream().filter(c -> !c.example().isEmpty())
        .forEach(c -> examples.append("FAIL ").append(c.name()).append(": ").append(c.example())
            .append('\n'));
    return t + examples.toString();
  }

  private void zero(String name, long found, String example) {
    checks.add(new Check(name, "0", Long.toString(found), found == 0, example));
  }

  private void within(String name, double metric, long atLeast, long slack) {
    add(name, atLeast + (slack > 0 ? " .. " + (atLeast + slack) : ""), fmt(metric),
        metric >= atLeast && metric <= atLeast + slack);
  }

  private void add(String name, String expected, String measured, boolean pass) {
    checks.add(new Check(name, expected, measured, pass, ""));
  }

  private static long count(List<Attempt> list, Predicate<Attempt> which) {
    return list.stream().filter(which).count();
  }

  private static String percent(long part, long whole) {
    return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%% (%d)", 100.0 * part / whole, part);
  }

  private static String fmt(double value) {
    return value == Math.rint(value) ? Long.toString((long) value) : String.format(Locale.ROOT, "%.1f", value);
  }

  private static String mib(long bytes) {
    return bytes < 0 ? "-" : String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
  }

  private static String human(Duration d) {
    long s = d.toSeconds();
    return s >= 60 ? (s / 60) + "m" + (s % 60 > 0 ? String.format(Locale.ROOT, "%02ds", s % 60) : "") : s + "s";
  }

  /** A plain-text table: the first column left-aligned, the others right-aligned. */
  private static final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
      rows.add(header);
    }

    void row(Object... cells) {
      String[] row = new String[cells.length];
      for (int i = 0; i < cells.length; i++) {
        row[i] = String.valueOf(cells[i]);
      }
      rows.add(row);
    }

    @Override
    public String toString() {
      int columns = rows.get(0).length;
      int[] width = new int[columns];
      rows.forEach(r -> {
        for (int i = 0; i < r.length; i++) {
          width[i] = Math.max(width[i], r[i].length());
        }
      });
      StringBuilder out = new StringBuilder();
      for (int n = 0; n < rows.size(); n++) {
        String[] r = rows.get(n);
        for (int i = 0; i < r.length; i++) {
          out.append(i == 0 ? String.format("%-" + width[i] + "s", r[i])
              : "  " + String.format("%" + width[i] + "s", r[i]));
        }
        out.append('\n');
        if (n == 0) {
          int total = 0;
          for (int w : width) {
            total += w + 2;
          }
          out.append("-".repeat(total - 2)).append('\n');
        }
      }
      return out.toString();
    }
  }
}
