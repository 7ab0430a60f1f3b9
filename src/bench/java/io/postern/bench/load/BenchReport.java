package io.postern.bench.load;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The run's figures as the table (Markdown: one column per proxy, and Postern/nginx when
 * nginx ran too), the per-variant and per-level details below it, and all of it as JSON.
 */
final class BenchReport {

  /** One line of the main table: its label, and each proxy's figure as text. */
  record Row(String label, List<String> values, List<Double> numbers) {}

  private final List<ProxyResults> proxies;
  private final String environment;

  /** {@code proxies}: nginx first when measured, then Postern. */
  BenchReport(List<ProxyResults> proxies, String environment) {
    this.proxies = List.copyOf(proxies);
    this.environment = environment;
  }

  List<ProxyResults> proxies() {
    return proxies;
  }

  /** The main table's rows, in the order. */
  List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    rows.add(row("proxy CPU per IMAP/POP3 login over TLS, full handshake (ms, warm; first run"
        + " after start)", p -> fmt(p.fullLoginMillis(), 2) + " (" + fmt(
        p.firstRun().cpuMillisPerLogin(), 2) + " first run)", ProxyResults::fullLoginMillis));
    rows.add(row("proxy CPU per login, resumed TLS 1.3 handshake (ms)",
        p -> fmt(p.resumedLoginMillis(), 2), ProxyResults::resumedLoginMillis));
    rows.add(row("64 MiB FETCH, one stream (MiB/s; POP3 RETR)",
        p -> fmt(p.fetch().mibPerSecond(), 0) + " (RETR " + fmt(p.retr().mibPerSecond(), 0)
            + ")", p -> p.fetch().mibPerSecond()));
    rows.add(row("proxy CPU per GiB relayed (s; RETR)",
        p -> fmt(p.fetch().cpuSecondsPerGib(), 2) + " (RETR " + fmt(p.retr().cpuSecondsPerGib(),
            2) + ")", p -> p.fetch().cpuSecondsPerGib()));
    rows.add(row("memory of the whole process, 2000 IDLE sessions (PSS, MiB)", p -> {
      ProxyResults.MemoryPoint at = near2000(p);
      return at == null ? "n/a" : fmt(at.pssKib() / 1024.0, 0)
          + (at.sessions() == 2000 ? "" : " (at " + at.sessions() + ")");
    }, p -> near2000(p) == null ? Double.NaN : near2000(p).pssKib() / 1024.0));
    rows.add(row("memory per added IDLE session (PSS, KiB; heap after GC)", p -> {
      ProxyResults.MemoryPoint last = p.memory().get(p.memory().size() - 1);
      return fmt(p.pssPerSessionKib(), 1) + (Double.isNaN(p.heapPerSessionKib()) ? ""
          : " (heap " + fmt(p.heapPerSessionKib(), 1) + ")") + ", up to " + last.sessions();
    }, ProxyResults::pssPerSessionKib));
    rows.add(row("proxy CPU per IDLE session (set-up, hold, DONE, LOGOUT) (ms)",
        p -> fmt(p.idleCost().millisPerSession(), 2), p -> p.idleCost().millisPerSession()));
    rows.add(row("NOOP round trip p50/p99 (µs)",
        p -> fmt(p.noops().p50Micros(), 0) + " / " + fmt(p.noops().p99Micros(), 0),
        p -> p.noops().p50Micros()));
    rows.add(row("most IDLE sessions held (open-file limit)",
        p -> p.max().held() + " (room for " + p.max().byDescriptors() + ")",
        p -> (double) p.max().held()));
    return rows;
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append(environment).append("\n\n");
    md.append("| |");
    proxies.forEach(p -> md.append(' ').append(p.proxy()).append(" |"));
    boolean ratio = proxies.size() == 2;
    if (ratio) {
      md.append(" ").append(proxies.get(1).proxy()).append('/').append(proxies.get(0).proxy())
          .append(" |");
    }
    md.append("\n|---|").append("---|".repeat(proxies.size() + (ratio ? 1 : 0))).append('\n');
    for (Row row : rows()) {
      md.append("| ").append(row.label()).append(" |");
      row.values().forEach(v -> md.append(' ').append(v).append(" |"));
      if (ratio) {
        md.append(' ').append(fmt(row.numbers().get(1) / row.numbers().get(0), 2)).append("× |");
      }
      md.append('\n');
    }
    for (ProxyResults p : proxies) {
      md.append("\n").append(p.proxy()).append(" (").append(p.certificate())
          .append("), logins per variant:\n\n")
          .append("| variant | handshake | logins | resumed | failed | CPU ms/login | logins/s"
              + " | p50 ms | p99 ms |\n")
          .append("|---|---|---|---|---|---|---|---|---|\n");
      List<LoginLoad.Result> all = new ArrayList<>(List.of(p.firstRun()));
      all.addAll(p.full());
      all.addAll(p.resumed());
      for (LoginLoad.Result r : all) {
        md.append("| ").append(r == p.firstRun() ? "all four, first run" : r.variant().label)
            .append(" | ")
            .append(r.resumed() ? "resumed" : "full").append(" | ").append(r.logins())
            .append(" | ").append(r.resumedHandshakes()).append(" | ").append(r.failed())
            .append(" | ").append(fmt(r.cpuMillisPerLogin(), 2)).append(" | ")
            .append(fmt(r.loginsPerSecond(), 0)).append(" | ").append(fmt(r.p50Millis(), 1))
            .append(" | ").append(fmt(r.p99Millis(), 1)).append(" |\n");
      }
      all.stream().filter(r -> r.failed() > 0).forEach(r -> md.append("\nFailed (")
          .append(r.variant().label).append(r.resumed() ? ", resumed" : "").append("): ")
          .append(r.failed()).append(", first: ").append(r.firstFailure()).append('\n'));
      md.append("\n").append(p.proxy()).append(", memory with IDLE sessions held:\n\n")
          .append("| IDLE sessions | RSS MiB | PSS MiB | heap after GC MiB | open files |\n")
          .append("|---|---|---|---|---|\n");
      for (ProxyResults.MemoryPoint m : p.memory()) {
        md.append("| ").append(m.sessions()).append(" | ").append(fmt(m.rssKib() / 1024.0, 1))
            .append(" | ").append(fmt(m.pssKib() / 1024.0, 1)).append(" | ")
            .append(m.heapAfterGcKib() < 0 ? "n/a" : fmt(m.heapAfterGcKib() / 1024.0, 1))
            .append(" | ").append(m.openFiles()).append(" |\n");
      }
      md.append("\nMost sessions: ").append(p.max().held()).append(" held");
      if (!p.max().refusal().isEmpty()) {
        md.append("; the next was refused (").append(p.max().refusal()).append(")");
      }
      md.append(". IDLE CPU: set-up ").append(fmt(p.idleCost().setupNanos() / 1e9, 2))
          .append(" s, hold ").append(p.idleCost().holdSeconds()).append(" s: ")
          .append(fmt(p.idleCost().holdNanos() / 1e9, 2)).append(" s, DONE+LOGOUT ")
          .append(fmt(p.idleCost().endNanos() / 1e9, 2)).append(" s for ")
          .append(p.idleCost().sessions()).append(" sessions.\n");
    }
    return md.toString();
  }

  JsonObject json() {
    JsonObject json = new JsonObject().put("environment", environment);
    JsonArray rows = new JsonArray();
    for (Row row : rows()) {
      JsonObject line = new JsonObject().put("row", row.label());
      for (int i = 0; i < proxies.size(); i++) {
        line.put(proxies.get(i).proxy(), row.values().get(i));
        line.put(proxies.get(i).proxy() + "_number", finite(row.numbers().get(i)));
      }
      rows.add(line);
    }
    json.put("rows", rows);
    JsonArray details = new JsonArray();
    for (ProxyResults p : proxies) {
      JsonObject d = new JsonObject().put("proxy", p.proxy()).put("certificate", p.certificate());
      d.put("firstRun", login(p.firstRun()));
      d.put("full", new JsonArray(p.full().stream().map(BenchReport::login).toList()));
      d.put("resumed", new JsonArray(p.resumed().stream().map(BenchReport::login).toList()));
      d.put("fetch", transfer(p.fetch())).put("retr", transfer(p.retr()));
      d.put("noops", new JsonObject().put("count", p.noops().count())
          .put("p50Micros", p.noops().p50Micros()).put("p99Micros", p.noops().p99Micros())
          .put("cpuMicrosPerNoop", p.noops().cpuMicrosPerNoop()));
      d.put("memory", new JsonArray(p.memory().stream().map(m -> new JsonObject()
          .put("sessions", m.sessions()).put("rssKib", m.rssKib()).put("pssKib", m.pssKib())
          .put("heapAfterGcKib", m.heapAfterGcKib()).put("openFiles", m.openFiles())).toList()));
      d.put("pssPerSessionKib", finite(p.pssPerSessionKib()))
          .put("heapPerSessionKib", finite(p.heapPerSessionKib()));
      d.put("idle", new JsonObject().put("sessions", p.idleCost().sessions())
          .put("setupNanos", p.idleCost().setupNanos()).put("holdNanos", p.idleCost().holdNanos())
          .put("holdSeconds", p.idleCost().holdSeconds()).put("endNanos", p.idleCost().endNanos())
          .put("millisPerSession", finite(p.idleCost().millisPerSession())));
      d.put("maxSessions", new JsonObject().put("held", p.max().held())
          .put("byDescriptors", p.max().byDescriptors()).put("refusal", p.max().refusal()));
      details.add(d);
    }
    return json.put("proxies", details);
  }

  /** The point at 2000 sessions, or the one nearest it when 2000 was not a level. */
  private static ProxyResults.MemoryPoint near2000(ProxyResults p) {
    return p.memory().stream().filter(m -> m.sessions() > 0)
        .min(java.util.Comparator.comparingInt(m -> Math.abs(m.sessions() - 2000)))
        .orElse(null);
  }

  private Row row(String label, Function<ProxyResults, String> text,
      Function<ProxyResults, Double> number) {
    return new Row(label, proxies.stream().map(text).toList(),
        proxies.stream().map(number).toList());
  }

  private static JsonObject login(LoginLoad.Result r) {
    return new JsonObject().put("variant", r.variant().name()).put("resumed", r.resumed())
        .put("logins", r.logins()).put("resumedHandshakes", r.resumedHandshakes())
        .put("failed", r.failed()).put("firstFailure", r.firstFailure())
        .put("cpuMillisPerLogin", finite(r.cpuMillisPerLogin()))
        .put("loginsPerSecond", finite(r.loginsPerSecond())).put("p50Millis", finite(r.p50Millis()))
        .put("p99Millis", finite(r.p99Millis()));
  }

  private static JsonObject transfer(StreamLoad.Transfer t) {
    return new JsonObject().put("protocol", t.protocol().name()).put("bytes", t.bytes())
        .put("mibPerSecond", finite(t.mibPerSecond()))
        .put("cpuSecondsPerGib", finite(t.cpuSecondsPerGib()));
  }

  private static Double finite(double value) {
    return Double.isFinite(value) ? value : null;
  }

  static String fmt(double value, int decimals) {
    return Double.isFinite(value) ? String.format(Locale.ROOT, "%." + decimals + "f", value)
        : "n/a";
  }
}
